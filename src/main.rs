//! `apigw-vpc-probe`: the FC custom runtime (`serve`) and the command line (`probe`, `check`). The local
//! stand-in and the demo are another crate's binary (`apigw-standin`), so they never ship.

use std::io::Write;

use apigw_vpc_probe::runtime;

mod args;
mod cli;

/// musl's allocator is slow under concurrency; the shipped (musl) binary uses mimalloc.
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The async runtime for the CPUs this process may use (its affinity and cgroup CPU quota, as
/// `available_parallelism` reads them). On one (FC runs `s.yaml`'s function with `cpu: 0.1`)
/// a single thread serves everything: no worker threads to start and one allocator heap to
/// fault in (a cold start takes 74 page faults fewer, an https probe about 10 % less CPU;
/// bench/NOTES.md). On more, two workers, as the benchmarks measure; with more workers each
/// adds its own heap pages, and a probe waits on the network.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let one_cpu = std::thread::available_parallelism().is_ok_and(|n| n.get() == 1);
    let mut builder = if one_cpu {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(2);
        builder
    };
    builder.enable_all().build()
}

fn main() {
    let command = match args::parse(lexopt::Parser::from_env()) {
        Ok(args::Parsed::Run(command)) => command,
        Ok(args::Parsed::Print(text)) => {
            // `--help`, `--version`: a closed stdout (`| head`) is no error of ours.
            let _ = std::io::stdout().write_all(text.as_bytes());
            std::process::exit(cli::EXIT_OK);
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(cli::EXIT_USAGE);
        }
    };
    let tokio_rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(cli::EXIT_USAGE);
        }
    };
    let code = tokio_rt.block_on(async {
        match command {
            args::Command::Serve(a) => runtime::serve(a).await,
            args::Command::Probe(a) => cli::probe(*a).await,
            args::Command::Check(a) => cli::check(*a).await,
        }
    });
    std::process::exit(code);
}
