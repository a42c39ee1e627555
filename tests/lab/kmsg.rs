//! vmtop reads the running kernel's log (/dev/kmsg) live, as the kernel allows: a failed load's
//! diagnosis rests on the module's own line, read as it was logged. As root always; as a user
//! who may load modules (CAP_SYS_MODULE) but not read the log (no CAP_SYSLOG with
//! kernel.dmesg_restrict=1), the diagnosis says the log could not be read and what it takes.

use crate::common::{copy_with_libraries, json_after, lab};

/// The module's fail line for the 2000 MiB request (more than the VM's RAM).
const FAIL_LINE: &str = "alloc_large_mem: fail memsize_mib=2000 ";
const NOT_READ: &str = "The kernel log was not fully read";

fn evidence(v: &serde_json::Value) -> Vec<String> {
    v["event"]["outcome"]["diagnosis"]["evidence"]
        .as_array()
        .unwrap_or_else(|| panic!("no evidence in {v}"))
        .iter()
        .map(|e| e.as_str().unwrap_or_default().to_string())
        .collect()
}

fn detail(v: &serde_json::Value) -> String {
    v["event"]["outcome"]["diagnosis"]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_kernel_log_read_live_as_root_and_refused_without_cap_syslog() {
    let copies = copy_with_libraries("setpriv", "/lab/setpriv");
    let args: Vec<&str> = copies.iter().map(String::as_str).collect();
    let r = lab(
        &args,
        r#"
        # A user who may load modules, not read the kernel log once dmesg_restrict is set.
        user() { /lab/setpriv --reuid=65534 --regid=65534 --clear-groups \
            --inh-caps=+sys_module --ambient-caps=+sys_module "$@"; }
        cd /tmp
        # Debian's kernels start with dmesg_restrict=1: without it first, then with it.
        echo restrict_at_boot=$(cat /proc/sys/kernel/dmesg_restrict)
        echo 0 > /proc/sys/kernel/dmesg_restrict
        echo "== root"; vmtop load --memsize 2000 --json; echo root_rc=$?
        echo "== user"; user vmtop load --memsize 2000 --json; echo user_rc=$?
        echo 1 > /proc/sys/kernel/dmesg_restrict
        user cat /dev/kmsg >/dev/null 2>/tmp/cat.err; echo user_cat_rc=$?
        echo "user_cat_err: $(cat /tmp/cat.err)"
        echo "== user restricted"; user vmtop load --memsize 2000 --json; echo restricted_rc=$?
        echo "== root restricted"; vmtop load --memsize 2000 --json; echo root_restricted_rc=$?
        echo loaded_after=$(loaded)
        "#,
    );
    for (case, rc) in [
        ("== root", "root_rc"),
        ("== user", "user_rc"),
        ("== root restricted", "root_restricted_rc"),
    ] {
        let v = json_after(&r.out, case);
        assert_eq!(r.num(rc), 1, "{case}: {v}");
        assert_eq!(v["errno"], 12, "{case}: {v}");
        // The module's own line, read from /dev/kmsg as the kernel logged it.
        assert!(
            evidence(&v).iter().any(|e| e.starts_with(FAIL_LINE)),
            "{case}: the module's line in the evidence: {v}"
        );
        assert!(!detail(&v).contains(NOT_READ), "{case}: {v}");
    }
    // The kernel's verdict on the user without CAP_SYSLOG, as cat gets it.
    let cat_err = r
        .out
        .lines()
        .find(|l| l.starts_with("user_cat_err:"))
        .expect("user_cat_err");
    assert_ne!(r.num("user_cat_rc"), 0, "{cat_err}");
    assert!(cat_err.contains("Operation not permitted"), "{cat_err}");
    // vmtop's load still gets the kernel's answer, and says which evidence it lacks and why.
    let v = json_after(&r.out, "== user restricted");
    assert_eq!(r.num("restricted_rc"), 1, "{v}");
    assert_eq!(v["errno"], 12, "{v}");
    assert!(
        !evidence(&v).iter().any(|e| e.starts_with(FAIL_LINE)),
        "no line read without the right to: {v}"
    );
    assert!(
        detail(&v).contains(
            "The kernel log was not fully read (opening /dev/kmsg to read the kernel log: \
             Operation not permitted (os error 1) (needs root or CAP_SYSLOG when \
             kernel.dmesg_restrict=1))"
        ),
        "{v}"
    );
    assert_eq!(r.num("loaded_after"), 0);
}
