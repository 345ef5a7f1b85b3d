//! `jsjob ipfs …`: add, cat and serve, over the local store or a remote node.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use crate::{
    AddOptions, Cid, ClientOptions, DagWalker, DiskStore, Error, GatewayClient, HashOnly, KuboClient, Result, Store,
    Version, import_reader,
};

/// Where the local store lives unless `--dir` says otherwise.
pub const DEFAULT_DIR: &str = ".jsjob/ipfs";

/// Where `serve` listens unless `--listen` says otherwise: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5001";

/// The `ipfs` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum IpfsCommand {
    /// Add a file and print its CID (as `ipfs add -Q`): CIDv0 by default, like Kubo.
    Add {
        /// The file.
        file: PathBuf,
        /// 0 (Kubo's default, `Qm…`) or 1 (`b…`, with raw leaves unless `--raw-leaves=false`).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
        cid_version: u8,
        /// Leaves as raw blocks (default: on with CIDv1, off with CIDv0).
        #[arg(long)]
        raw_leaves: Option<bool>,
        /// Only compute the CID; store nothing.
        #[arg(long, short = 'n')]
        only_hash: bool,
        /// The local store's directory.
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// Add through a Kubo RPC API instead (e.g. http://127.0.0.1:5001).
        #[arg(long, conflicts_with = "only_hash")]
        api: Option<String>,
    },
    /// Print a file by CID, every block verified.
    Cat {
        /// The CID.
        cid: String,
        /// The local store's directory.
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// Read through a Kubo RPC API instead.
        #[arg(long, conflicts_with = "gateway")]
        api: Option<String>,
        /// Read through a trustless gateway instead (e.g. http://127.0.0.1:8080).
        #[arg(long)]
        gateway: Option<String>,
    },
    /// Serve the local store: a trustless gateway (/ipfs/{cid}) and the Kubo RPC subset (/api/v0/…).
    Serve {
        /// The address to listen on.
        #[arg(long, default_value = DEFAULT_LISTEN)]
        listen: String,
        /// The local store's directory.
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// A cap on the store's size in bytes.
        #[arg(long)]
        max_bytes: Option<u64>,
    },
}

/// Runs a command, writing its output to `out`; `serve` runs until `shutdown` resolves.
pub async fn run(
    command: IpfsCommand,
    out: &mut (impl Write + Send),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let write = |out: &mut (dyn Write + Send), bytes: &[u8]| {
        out.write_all(bytes).map_err(|e| Error::io("writing the output", e))
    };
    match command {
        IpfsCommand::Add { file, cid_version, raw_leaves, only_hash, dir, api } => {
            let cid_version = if cid_version == 0 { Version::V0 } else { Version::V1 };
            let options = AddOptions { cid_version, raw_leaves: raw_leaves.unwrap_or(cid_version == Version::V1) };
            let cid = if let Some(api) = api {
                let content = std::fs::read(&file).map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
                KuboClient::new(&api, ClientOptions::default())?.add(&content, options).await?
            } else if only_hash {
                let reader = open(&file)?;
                tokio::task::spawn_blocking(move || import_reader(reader, &options, &mut HashOnly))
                    .await
                    .map_err(|e| Error::io("hashing", std::io::Error::other(e)))??
                    .cid
            } else {
                let store = DiskStore::open(&dir, None)?;
                tokio::task::spawn_blocking(move || store.add_path(&file, options))
                    .await
                    .map_err(|e| Error::io("adding", std::io::Error::other(e)))??
                    .cid
            };
            write(out, format!("{cid}\n").as_bytes())
        }
        IpfsCommand::Cat { cid, dir, api, gateway } => {
            let cid: Cid = cid.parse()?;
            if let Some(api) = api {
                return write(out, &KuboClient::new(&api, ClientOptions::default())?.get(&cid).await?);
            }
            if let Some(gateway) = gateway {
                return write(out, &GatewayClient::new(&gateway, ClientOptions::default())?.get(&cid).await?);
            }
            let store = DiskStore::open(&dir, None)?;
            let mut walker = DagWalker::new(&store, cid, store.limits());
            while let Some(data) = walker.next_data().await? {
                write(out, &data)?;
            }
            Ok(())
        }
        IpfsCommand::Serve { listen, dir, max_bytes } => {
            let store = DiskStore::open(&dir, max_bytes)?;
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .map_err(|e| Error::io(format!("listening on {listen}"), e))?;
            let address = listener.local_addr().map_err(|e| Error::io("reading the bound address", e))?;
            write(
                out,
                format!("serving {} on http://{address} (gateway /ipfs/, RPC /api/v0/)\n", dir.display()).as_bytes(),
            )?;
            out.flush().map_err(|e| Error::io("writing the output", e))?;
            crate::http::serve(listener, store, shutdown).await
        }
    }
}

fn open(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))
}
