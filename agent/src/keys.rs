//! The agent's key: a private key from an environment variable, or an encrypted JSON keystore (the
//! Web3 Secret Storage format `cast wallet import` and geth write) with its password from an environment
//! variable or a file.
//!
//! The key never appears in a message: errors name the variable or file, never its content, and the
//! signer's `Debug` shows only its address.

use std::path::{Path, PathBuf};

use alloy::signers::local::PrivateKeySigner;

/// Errors of this module. None of them carries the key or the password.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No key is configured.
    #[error(
        "no key: set {var} to the account's private key (0x + 64 hex digits), or `key.keystore` in the config file"
    )]
    Missing {
        /// The variable looked at.
        var: String,
    },
    /// The variable does not hold a private key.
    #[error("{var} does not hold a private key (expected 0x followed by 64 hex digits)")]
    Malformed {
        /// The variable.
        var: String,
    },
    /// The keystore's password is not configured.
    #[error("the keystore {keystore} needs a password: set {var}, or `key.password_file` in the config file")]
    NoPassword {
        /// The keystore file.
        keystore: PathBuf,
        /// The variable looked at.
        var: String,
    },
    /// The password file cannot be read.
    #[error("cannot read the password file {path}: {source}")]
    PasswordFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The keystore cannot be opened with that password.
    #[error("cannot decrypt the keystore {path} (a wrong password, or not a JSON keystore): {reason}")]
    Keystore {
        /// The file.
        path: PathBuf,
        /// Why, as the keystore library says it (it never quotes the secret).
        reason: String,
    },
}

/// `Result` with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where the key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// A private key in hex in this environment variable.
    Env {
        /// The variable's name.
        var: String,
    },
    /// An encrypted JSON keystore file.
    Keystore {
        /// The file.
        path: PathBuf,
        /// The environment variable holding the password (looked at when `password_file` is `None`).
        password_var: String,
        /// A file whose content (trailing newline trimmed) is the password.
        password_file: Option<PathBuf>,
    },
}

impl KeySource {
    /// Loads the key.
    pub fn load(&self) -> Result<PrivateKeySigner> {
        match self {
            Self::Env { var } => {
                let text = std::env::var(var).map_err(|_| Error::Missing { var: var.clone() })?;
                parse_key(text.trim()).ok_or_else(|| Error::Malformed { var: var.clone() })
            }
            Self::Keystore { path, password_var, password_file } => {
                let password = match password_file {
                    Some(file) => read_password(file)?,
                    None => std::env::var(password_var)
                        .map_err(|_| Error::NoPassword { keystore: path.clone(), var: password_var.clone() })?,
                };
                PrivateKeySigner::decrypt_keystore(path, password)
                    .map_err(|error| Error::Keystore { path: path.clone(), reason: error.to_string() })
            }
        }
    }
}

/// A hex private key, with or without `0x`.
fn parse_key(text: &str) -> Option<PrivateKeySigner> {
    let hex = text.strip_prefix("0x").unwrap_or(text);
    if hex.len() != 64 {
        return None;
    }
    hex.parse().ok()
}

fn read_password(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::PasswordFile { path: path.to_owned(), source })?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    #[test]
    fn parses_keys_and_never_shows_them() {
        let signer = parse_key(KEY).expect("valid key");
        assert_eq!(signer.address().to_checksum(None), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        assert!(parse_key(&KEY[2..]).is_some());
        let shown = format!("{signer:?}");
        assert!(!shown.contains(&KEY[2..]), "Debug of the signer shows the key: {shown}");
        for bad in ["", "0x", "0x1234", "not a key", &format!("{KEY}00")] {
            assert!(parse_key(bad).is_none(), "{bad} parsed");
        }
    }

    #[test]
    fn errors_name_the_variable_not_the_value() {
        let error = Error::Malformed { var: "JSJOB_TEST_KEY".into() };
        assert_eq!(
            error.to_string(),
            "JSJOB_TEST_KEY does not hold a private key (expected 0x followed by 64 hex digits)"
        );
        let missing = KeySource::Env { var: "JSJOB_KEYS_TEST_UNSET_VARIABLE".into() }.load().expect_err("unset");
        assert!(missing.to_string().starts_with("no key: set JSJOB_KEYS_TEST_UNSET_VARIABLE"), "{missing}");
    }
}
