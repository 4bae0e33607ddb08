//! `apigw-vpc-probe`: the FC custom runtime (`serve`), the command line (`probe`), and the local
//! stand-in of the whole setup (`demo`, `standin`).

use clap::{Parser, Subcommand};

use apigw_vpc_probe::{cli, demo, runtime, standin};

/// musl's allocator is slow under concurrency; the shipped (musl) binary uses mimalloc.
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "apigw-vpc-probe", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve Function Compute's requests: the custom runtime that bootstrap runs.
    Serve(runtime::ServeArgs),
    /// Call an API and report phases and errors.
    Probe(Box<cli::ProbeArgs>),
    /// Run the seed's setup locally (DNS, API Gateway, backend) and invoke the function the
    /// three ways FC does.
    Demo,
    /// Run a part of the local stand-in (DNS, gateway, backend), e.g. in a network namespace.
    #[command(subcommand)]
    Standin(standin::StandinCommand),
}

fn main() {
    let args = Cli::parse();
    let tokio_rt = match tokio::runtime::Builder::new_multi_thread()
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
    let code = tokio_rt.block_on(async {
        match args.command {
            Command::Serve(a) => runtime::serve(a).await,
            Command::Probe(a) => cli::probe(*a).await,
            Command::Demo => demo::run().await,
            Command::Standin(cmd) => match standin::run(cmd).await {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("error: {e}");
                    cli::EXIT_USAGE
                }
            },
        }
    });
    std::process::exit(code);
}
