//! On the build host itself: `vmtop status` tells whether this kernel can load modules.

use std::process::Command;

#[test]
fn status_reports_module_support_of_this_kernel() {
    let out = Command::new(env!("CARGO_BIN_EXE_vmtop"))
        .arg("status")
        .output()
        .expect("running vmtop status");
    let text = String::from_utf8_lossy(&out.stdout);
    if std::path::Path::new("/proc/modules").exists() {
        assert_eq!(out.status.code(), Some(0), "{text}");
        assert!(text.contains("can load modules"), "{text}");
    } else {
        // The build machines: no CONFIG_MODULES. Its own exit code, and a way out.
        assert_eq!(out.status.code(), Some(3), "{text}");
        assert!(text.contains("without module support"), "{text}");
        assert!(text.contains("vmtop lab"), "{text}");
    }
}

#[test]
fn load_on_a_kernel_without_module_support_is_diagnosed() {
    if std::path::Path::new("/proc/modules").exists() {
        // A kernel that can load modules: this case is for the build machines.
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_vmtop"))
        .args(["load", "--memsize", "8", "--json"])
        .output()
        .expect("running vmtop load");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let d = &v["event"]["outcome"]["diagnosis"];
    assert_eq!(d["cause"], "no_module_support", "{v}");
    assert_eq!(d["confidence"], "certain", "{v}");
    assert!(d["detail"].to_string().contains("vmtop lab"), "{v}");
}

#[test]
fn bad_memsize_is_one_line_exit_2() {
    for bad in ["0", "-5", "1.5", "", "12parsecs", "99999999999999999999999"] {
        let out = Command::new(env!("CARGO_BIN_EXE_vmtop"))
            .args(["load", "--memsize", bad])
            .output()
            .expect("running vmtop load");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{bad}: {err}");
        assert!(err.contains("300M") && err.contains("2G"), "{bad}: {err}");
    }
}

#[test]
fn record_into_a_closed_pipe_ends_quietly() {
    // `vmtop record | head -n 2`: the reader goes away; vmtop must stop without an error
    // message (as `cat` does), not print "Broken pipe" or panic.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' record --duration 5s --interval 50ms | head -n 2",
            env!("CARGO_BIN_EXE_vmtop")
        ))
        .output()
        .expect("running vmtop record | head");
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.starts_with("t_s,"), "{text}");
    assert!(err.is_empty(), "stderr: {err}");
}
