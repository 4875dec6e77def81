//! `quarry config`: write the example config file, or say where the config file is.

use std::path::{Path, PathBuf};

use super::{ConfigCommand, EXIT_USAGE};
use crate::results::sanitize_multiline;
use crate::store::config;

pub fn config_command(cli_path: Option<&Path>, command: &ConfigCommand) -> i32 {
    match command {
        ConfigCommand::Init { path } => {
            let target = path.as_deref().or(cli_path);
            match config::init(target) {
                Ok(p) => {
                    println!("wrote {}", p.display());
                    0
                }
                Err(e) => {
                    eprintln!("quarry: {}", sanitize_multiline(&e.to_string()));
                    EXIT_USAGE
                }
            }
        }
        ConfigCommand::Path => {
            let path = cli_path
                .map(Path::to_path_buf)
                .or_else(|| {
                    std::env::var_os("QUARRY_CONFIG")
                        .filter(|v| !v.is_empty())
                        .map(PathBuf::from)
                })
                .or_else(crate::store::paths::default_config_path);
            match path {
                Some(p) => {
                    println!("{}", p.display());
                    0
                }
                None => {
                    eprintln!("quarry: no config path: there is no home directory; use --config");
                    EXIT_USAGE
                }
            }
        }
    }
}
