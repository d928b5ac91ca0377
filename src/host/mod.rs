//! Everything that touches the machine: paths under the root, atomic writes, the lock, the
//! service manager, and the two agents' files and interfaces.

pub mod ecs_agent;
pub mod envfile;
pub mod fs;
pub mod lock;
pub mod paths;
pub mod ssm_agent;
pub mod systemd;
