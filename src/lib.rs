//! ecs-anywhere: puts an on-premises server or VM into Amazon ECS Anywhere and keeps it there.

pub mod activation;
pub mod aws;
pub mod cli;
pub mod config;
pub mod error;
pub mod host;
pub mod logging;
pub mod output;
pub mod reconcile;
pub mod register;
pub mod role;
pub mod secret;
pub mod state;
