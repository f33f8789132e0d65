//! Prints a synthetic manifest: `cargo run -p gqlauto --example synth_manifest -- MODELS [SEED]`.
//! Used by `bench/compile-time.sh`; see `gqlauto::synth`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| args.get(i).map(|a| a.parse::<u64>().expect("a whole number")).unwrap_or(default);
    print!("{}", gqlauto::synth::manifest(number(0, 30) as usize, number(1, 1)));
}
