fn main() {
    std::process::exit(vmtop::commands::main());
}
