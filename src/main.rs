//! `apigw-vpc-probe`: the FC custom runtime (`serve`) and the command line (`probe`, `check`). The local
//! stand-in and the demo are another crate's binary (`apigw-standin`), so they never ship.

use apigw_vpc_probe::runtime;

mod args;
mod cli;

/// musl's allocator is slow under concurrency; the shipped (musl) binary uses mimalloc.
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The async runtime: one thread serves everything, on any number of CPUs. A probe's timings are
/// taken when its task wakes up on a socket's readiness, and with two worker threads a wake-up
/// that crosses to the other thread added about 45 µs to every loopback probe's measured time
/// (an 18 % error on a 0.25 ms probe), started two threads' allocator heaps on a cold start
/// (0.6 ms later to the first answer), and cost more CPU per https probe; it gained up to 13 %
/// https probes/s at concurrency 100 on two CPUs (bench/NOTES.md, sixth pass). FC runs
/// `s.yaml`'s function with `cpu: 0.1`, where a second thread has no CPU to run on anyway.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

fn main() {
    let command = match args::parse(lexopt::Parser::from_env()) {
        Ok(args::Parsed::Run(command)) => command,
        Ok(args::Parsed::Print(text)) => {
            // `--help`, `--version`: nothing to report if stdout cannot take them.
            let _ = cli::write_stdout(&text);
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
