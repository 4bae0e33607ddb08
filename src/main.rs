//! `apigw-vpc-probe`: the FC custom runtime (`serve`), the command line (`probe`), and the local
//! stand-in of the whole setup (`demo`, `standin`).

use clap::{Parser, Subcommand};

use apigw_vpc_probe::cli;

#[derive(Parser)]
#[command(name = "apigw-vpc-probe", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Call an API and report phases and errors.
    Probe(cli::ProbeArgs),
}

fn main() {
    let args = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(cli::EXIT_USAGE);
        }
    };
    let code = runtime.block_on(async {
        match args.command {
            Command::Probe(a) => cli::probe(a).await,
        }
    });
    std::process::exit(code);
}
