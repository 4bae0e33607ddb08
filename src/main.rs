//! `apigw-vpc-probe`: the FC custom runtime (`serve`) and the command line (`probe`, `check`). The local
//! stand-in and the demo are another crate's binary (`apigw-standin`), so they never ship.

use clap::{ArgMatches, Args, FromArgMatches, Parser, Subcommand};

use apigw_vpc_probe::runtime;

mod cli;

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
    Probe(Deferred<cli::ProbeArgs>),
    /// Call an API, then cross-check the configuration it depends on through Alibaba Cloud's
    /// OpenAPI, and report both.
    Check(Deferred<cli::CheckArgs>),
}

/// A subcommand's arguments, added to its command only when that subcommand is parsed or its
/// help shown. clap otherwise builds every subcommand's arguments before parsing any, and
/// `serve`, which FC runs on every cold start, would build the dozens of `probe` and `check`
/// (about 0.3 ms and 30 page faults of a cold start, bench/NOTES.md).
struct Deferred<T>(Box<T>);

impl<T: FromArgMatches> FromArgMatches for Deferred<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(|t| Self(Box::new(t)))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }
}

impl<T: Args> Args for Deferred<T> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_args)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd.defer(T::augment_args_for_update)
    }
}

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
    let args = Cli::parse();
    let tokio_rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(cli::EXIT_USAGE);
        }
    };
    let code = tokio_rt.block_on(async {
        match args.command {
            Command::Serve(a) => runtime::serve(a).await,
            Command::Probe(a) => cli::probe(*a.0).await,
            Command::Check(a) => cli::check(*a.0).await,
        }
    });
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn probe_and_check_arguments_are_added_only_when_used() {
        let cmd = Cli::command();
        for name in ["probe", "check"] {
            let sub = cmd.find_subcommand(name).expect(name);
            assert_eq!(sub.get_arguments().count(), 0, "{name} built before use");
        }
        // Built, every subcommand is well formed (clap's own checks) ...
        Cli::command().debug_assert();
        // ... and parses as before the deferral.
        let cli = Cli::try_parse_from([
            "apigw-vpc-probe",
            "check",
            "-X",
            "post",
            "http://a.example/x",
        ])
        .expect("parses");
        let Command::Check(args) = cli.command else {
            panic!("not check");
        };
        assert_eq!(args.0.probe.url.as_deref(), Some("http://a.example/x"));
        assert_eq!(
            args.0.probe.method,
            apigw_vpc_probe::target::HttpMethod::Post
        );
        assert!(Cli::try_parse_from(["apigw-vpc-probe", "probe", "--bogus"]).is_err());
    }
}
