//! Value types shared by the command line and the configuration files, each validating on
//! parse, so a bad value is refused with what is allowed before anything talks to AWS.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A duration written the way operators write them: `90s`, `15m`, `24h`, `7d`, `1h30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "invalid duration `{s}`: expected numbers each followed by s, m, h or d (e.g. 90s, 15m, 24h, 7d, 1h30m)"
            )
        };
        let text = s.trim();
        if text.is_empty() {
            return Err(bad());
        }
        let mut total: u64 = 0;
        let mut digits = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => return Err(bad()),
            };
            let n: u64 = digits.parse().map_err(|_| bad())?;
            digits.clear();
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(bad)?;
        }
        if !digits.is_empty() {
            return Err(bad());
        }
        Ok(HumanDuration(Duration::from_secs(total)))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut secs = self.0.as_secs();
        if secs == 0 {
            return f.write_str("0s");
        }
        for (unit, len) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if secs >= len {
                write!(f, "{}{unit}", secs / len)?;
                secs %= len;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How the ECS Anywhere role gets its ECS permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyMode {
    /// AmazonSSMManagedInstanceCore + AmazonEC2ContainerServiceforEC2Role (AWS managed).
    Managed,
    /// AmazonSSMManagedInstanceCore + a least-privilege inline policy written by this tool.
    Minimal,
}

impl fmt::Display for PolicyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PolicyMode::Managed => "managed",
            PolicyMode::Minimal => "minimal",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Text,
    Json,
}

/// How many hosts one activation may register: 1..=1000 (the SSM limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct RegistrationLimit(pub i32);

impl TryFrom<i64> for RegistrationLimit {
    type Error = String;
    fn try_from(n: i64) -> Result<Self, String> {
        if (1..=1000).contains(&n) {
            Ok(RegistrationLimit(n as i32))
        } else {
            Err(format!(
                "registration limit {n} is out of range: allowed 1 to 1000"
            ))
        }
    }
}

impl FromStr for RegistrationLimit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let n: i64 = s.trim().parse().map_err(|_| {
            format!("registration limit `{s}` is not a whole number: allowed 1 to 1000")
        })?;
        n.try_into()
    }
}

/// A `key=value` pair from the command line (tags, attributes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

impl FromStr for KeyValue {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok(KeyValue {
                key: k.trim().to_string(),
                value: v.to_string(),
            }),
            _ => Err(format!("`{s}` is not of the form key=value")),
        }
    }
}

/// IAM role names: 1..64 of `[A-Za-z0-9+=,.@_-]` (the IAM API's pattern), no path.
pub fn validate_role_name(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if name.is_empty() || name.len() > 64 || !name.chars().all(ok_char) {
        return Err(format!(
            "invalid role name `{name}`: 1 to 64 characters of letters, digits and +=,.@_- (a name, not an ARN or path)"
        ));
    }
    Ok(())
}

/// ECS cluster names: 1..255 of letters, digits, hyphens and underscores.
pub fn validate_cluster_name(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if name.is_empty() || name.len() > 255 || !name.chars().all(ok_char) {
        return Err(format!(
            "invalid cluster name `{name}`: 1 to 255 letters, digits, hyphens and underscores"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print() {
        let cases = [
            ("90s", 90),
            ("15m", 900),
            ("24h", 86_400),
            ("30d", 2_592_000),
            ("1h30m", 5400),
        ];
        for (text, secs) in cases {
            let d: HumanDuration = text.parse().unwrap();
            assert_eq!(d.0.as_secs(), secs, "{text}");
            assert_eq!(d.to_string().parse::<HumanDuration>().unwrap(), d);
        }
        for bad in ["", "10", "h", "5x", "-5m", "1.5h", "99999999999999999999d"] {
            assert!(bad.parse::<HumanDuration>().is_err(), "{bad}");
        }
    }

    #[test]
    fn registration_limit_bounds() {
        assert!("0".parse::<RegistrationLimit>().is_err());
        assert!("1001".parse::<RegistrationLimit>().is_err());
        assert!("ten".parse::<RegistrationLimit>().is_err());
        assert_eq!("1000".parse::<RegistrationLimit>().unwrap().0, 1000);
    }

    #[test]
    fn key_values_and_names() {
        let kv: KeyValue = "team=core=x".parse().unwrap();
        assert_eq!((kv.key.as_str(), kv.value.as_str()), ("team", "core=x"));
        assert!("=v".parse::<KeyValue>().is_err());
        assert!("novalue".parse::<KeyValue>().is_err());
        assert!(validate_role_name("ecsAnywhereRole").is_ok());
        assert!(validate_role_name("arn:aws:iam::1:role/x").is_err());
        assert!(validate_role_name(&"a".repeat(65)).is_err());
        assert!(validate_cluster_name("prod-1_a").is_ok());
        assert!(validate_cluster_name("bad name").is_err());
    }
}
