//! `vmtop config`: the settings file's path, the settings it gives, or a commented default.

use std::ffi::OsString;

use crate::cli::{exit, ConfigArgs};

pub(super) fn config(args: ConfigArgs, argv: &[OsString]) -> anyhow::Result<i32> {
    if args.default {
        print!("{}", crate::settings::default_text());
        return Ok(exit::OK);
    }
    let explicit = args.config.as_deref();
    if args.path {
        match explicit
            .map(|p| p.to_path_buf())
            .or_else(crate::settings::default_path)
        {
            Some(p) => println!("{}", p.display()),
            None => anyhow::bail!("no settings file: neither $XDG_CONFIG_HOME nor $HOME is set"),
        }
        return Ok(exit::OK);
    }
    let file = crate::settings::read(explicit)?;
    match (
        &file,
        explicit
            .map(|p| p.to_path_buf())
            .or_else(crate::settings::default_path),
    ) {
        (Some((path, _)), _) => println!("# settings from {}", path.display()),
        (None, Some(path)) => println!("# no settings file at {}: the defaults", path.display()),
        (None, None) => println!("# no settings file ($HOME unset): the defaults"),
    }
    // Only the program name: what `vmtop` alone would start with.
    let program = &argv[..argv.len().min(1)];
    let text = crate::settings::describe(
        program,
        file.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
    )?;
    print!("{text}");
    Ok(exit::OK)
}
