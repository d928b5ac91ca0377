//! The ECS agent on the host: its saved state (`agent.db`) and its local introspection
//! endpoint, `GET http://127.0.0.1:51678/v1/metadata`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::host::paths::HostPaths;

pub const INTROSPECTION: &str = "127.0.0.1:51678";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Metadata {
    #[serde(rename = "Cluster")]
    pub cluster: Option<String>,
    #[serde(rename = "ContainerInstanceArn")]
    pub container_instance_arn: Option<String>,
    #[serde(rename = "Version")]
    pub version: Option<String>,
}

/// Asks the running agent who it is. `Ok(None)` when nothing listens (agent not running).
pub fn metadata(addr: &str) -> Result<Option<Metadata>> {
    let sock: SocketAddr = addr
        .parse()
        .map_err(|e| Error::Other(format!("bad introspection address {addr}: {e}")))?;
    let mut stream = match TcpStream::connect_timeout(&sock, Duration::from_secs(2)) {
        Ok(s) => s,
        Err(_) => return Ok(None),
    };
    let io = |e: std::io::Error| Error::Other(format!("ECS agent introspection on {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(io)?;
    write!(
        stream,
        "GET /v1/metadata HTTP/1.0\r\nHost: {addr}\r\nAccept: application/json\r\n\r\n"
    )
    .map_err(io)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(io)?;
    let raw = String::from_utf8_lossy(&raw);
    let Some((head, body)) = raw.split_once("\r\n\r\n") else {
        return Err(Error::Other(format!(
            "ECS agent introspection on {addr} sent no HTTP response"
        )));
    };
    if head.split_whitespace().nth(1) != Some("200") {
        return Ok(None);
    }
    serde_json::from_str(body.trim())
        .map(Some)
        .map_err(|e| Error::Other(format!("ECS agent introspection on {addr}: {e}")))
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AgentState {
    pub cluster: Option<String>,
    pub container_instance_arn: Option<String>,
}

/// What the agent saved in `agent.db`. The real agent keeps a BoltDB file; we only need to
/// know whether it exists (cluster and ARN are read from the stand-in's JSON when present).
pub fn saved_state(paths: &HostPaths) -> Option<AgentState> {
    let raw = std::fs::read(paths.ecs_agent_db()).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&raw).unwrap_or_default();
    Some(AgentState {
        cluster: v["Cluster"].as_str().map(str::to_string),
        container_instance_arn: v["ContainerInstanceArn"].as_str().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn reads_metadata_and_tolerates_a_missing_agent() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).unwrap();
            let body = r#"{"Cluster":"prod","ContainerInstanceArn":"arn:aws:ecs:us-east-1:1:container-instance/prod/abc","Version":"Amazon ECS Agent - v1.99.0"}"#;
            write!(
                s,
                "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{body}"
            )
            .unwrap();
        });
        let m = metadata(&addr).unwrap().unwrap();
        assert_eq!(m.cluster.as_deref(), Some("prod"));
        assert!(m.container_instance_arn.unwrap().ends_with("/abc"));
        server.join().unwrap();
        // Nothing listens on the now-closed port.
        assert_eq!(metadata(&addr).unwrap(), None);
    }
}
