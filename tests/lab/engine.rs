//! Issue 3: the engine against the real kernel in the lab VM: every failure cause the lab
//! can produce, with vmtop's diagnosis; the probe checked against a bisection done by hand
//! with busybox insmod; record output that parses back.

use crate::common::{
    build_module, cause, copy_with_libraries, json_after, lab, lab_dir, lab_kernel, run_ok,
    section, temp_dir,
};

#[test]
fn failure_causes_adoption_and_record() {
    // A module built for another kernel: the lab kernel's module (built here, in a private
    // folder) with another release in its vermagic.
    let kernel = lab_kernel();
    let release = &kernel.release;
    let tmp = temp_dir("wrong");
    let built = build_module(&kernel, tmp.path());
    let ko = tmp.path().join("wrong.ko");
    let mut bytes = std::fs::read(&built).expect("read ko");
    let needle = format!("vermagic={release}");
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .expect("vermagic in module");
    // Change the first digit of the release: same length, another kernel. With
    // CONFIG_MODVERSIONS the kernel ignores the release word (symbol CRCs decide), so also
    // change a flag word, as a module from a differently configured kernel would have.
    let digit = at + "vermagic=".len();
    bytes[digit] = if bytes[digit] == b'9' { b'8' } else { b'9' };
    let flag = bytes[at..]
        .windows(b"mod_unload".len())
        .position(|w| w == b"mod_unload")
        .expect("mod_unload in vermagic")
        + at;
    bytes[flag + 7] = b'X';
    std::fs::write(&ko, &bytes).expect("write wrong ko");
    let copy = format!("{}:/lab/wrong.ko", ko.display());

    let r = lab(
        &["--copy", &copy],
        r#"
        echo "== big"; vmtop load --memsize 2000 --json
        total=$(( $(mi MemTotal) / 1024 )); avail=$(( $(mi MemAvailable) / 1024 ))
        mid=$(( (total + avail) / 2 + 16 ))
        echo between_total=$total between_avail=$avail between_ask=$mid
        echo "== between"; vmtop load --memsize $mid --json
        echo between_loaded=$(loaded)
        # It would leave ~40 MiB, less than safe mode's 64 MiB reserve, counted as the module
        # counts: MemAvailable plus the free pages on per-CPU lists (/proc/zoneinfo "count:",
        # 2-46 MiB in this VM: with MemAvailable alone the load sometimes fitted, on 6.12).
        pcp=$(awk '$1 == "count:" { n += $2 } END { print int(n * 4 / 1024) }' /proc/zoneinfo)
        avail=$(( $(mi MemAvailable) / 1024 ))
        echo reserve_pcp_mib=$pcp
        echo "== reserve"; vmtop load --memsize $(( avail + pcp - 40 )) --json
        echo reserve_loaded=$(loaded)
        echo "== missing"; vmtop load --memsize 8 --module /lab/no-such.ko --json
        echo missing_rc=$?
        echo "== wrong"; vmtop load --memsize 8 --module /lab/wrong.ko --json
        insmod /lab/wrong.ko memsize=8 2>/dev/null; echo wrong_insmod_rc=$?
        echo wrong_loaded=$(loaded)
        dmesg | grep -c 'version magic' | sed 's/^/version_magic_lines=/'
        insmod /lab/alloc_large_mem.ko memsize=8; echo adopt_insmod_rc=$?
        vmtop status --json > st.json; echo "== status"; cat st.json
        echo "== again"; vmtop load --memsize 8 --json
        vmtop unload; echo adopt_unload_rc=$? adopt_loaded=$(loaded)
        echo rec_before_total=$(mi MemTotal) rec_before_used=$(mi VmallocUsed)
        vmtop record --duration 2s --interval 100ms --format csv --out /tmp/r.csv; echo record_rc=$?
        echo rec_after_total=$(mi MemTotal) rec_after_used=$(mi VmallocUsed)
        vmtop record --duration 1s --interval 100ms --format jsonl --out /tmp/r.jsonl
        echo "== csv"; cat /tmp/r.csv; echo "== end csv"
        echo "== jsonl"; cat /tmp/r.jsonl; echo "== end jsonl"
        "#,
    );

    let big = json_after(&r.out, "== big");
    assert_eq!(big["errno"], 12);
    assert_eq!(cause(&big), "exceeds_total_pages", "{big}");

    let between = json_after(&r.out, "== between");
    assert!(r.num("between_ask") < r.num("between_total"));
    assert!(r.num("between_ask") > r.num("between_avail"));
    assert_eq!(between["errno"], 12, "{between}");
    assert_eq!(cause(&between), "physical_memory_short", "{between}");
    // The module's own count at the call (with the per-CPU pages MemAvailable leaves out).
    let bd = between["event"]["outcome"]["diagnosis"]["detail"].to_string();
    assert!(bd.contains("At the call the module counted"), "{bd}");
    assert_eq!(r.num("between_loaded"), 0);

    let reserve = json_after(&r.out, "== reserve");
    assert_eq!(reserve["errno"], 12, "{reserve}");
    assert_eq!(cause(&reserve), "physical_memory_short", "{reserve}");
    let rs = reserve["event"]["outcome"]["diagnosis"]["summary"].to_string();
    assert!(rs.contains("safe mode keeps free"), "{rs}");
    assert_eq!(
        reserve["event"]["outcome"]["diagnosis"]["confidence"], "certain",
        "{reserve}"
    );
    assert_eq!(r.num("reserve_loaded"), 0);

    let missing = json_after(&r.out, "== missing");
    assert_eq!(cause(&missing), "module_file_missing", "{missing}");
    assert_ne!(r.num("missing_rc"), 0);

    let wrong = json_after(&r.out, "== wrong");
    assert_eq!(cause(&wrong), "wrong_kernel", "{wrong}");
    let summary = wrong["event"]["outcome"]["diagnosis"]["summary"].to_string()
        + &wrong["event"]["outcome"]["diagnosis"]["detail"].to_string();
    assert!(
        summary.contains("make"),
        "names the rebuild command: {summary}"
    );
    assert_ne!(
        r.num("wrong_insmod_rc"),
        0,
        "the kernel itself refuses it too"
    );
    assert_eq!(r.num("wrong_loaded"), 0);
    assert!(r.num("version_magic_lines") >= 1);

    assert_eq!(r.num("adopt_insmod_rc"), 0);
    let st = json_after(&r.out, "== status");
    assert_eq!(st["module"]["loaded"], true, "{st}");
    assert_eq!(st["module"]["memsize_mib"], 8, "{st}");
    let again = json_after(&r.out, "== again");
    assert_eq!(again["errno"], 17);
    assert_eq!(cause(&again), "already_loaded");
    assert_eq!(r.num("adopt_unload_rc"), 0);
    assert_eq!(r.num("adopt_loaded"), 0);

    assert_eq!(r.num("record_rc"), 0);
    let csv = vmtop::record::parse_csv(section(&r.out, "== csv")).expect("csv parses");
    assert!(
        csv.len() >= 15 && csv.len() <= 22,
        "{} points in 2 s at 100 ms",
        csv.len()
    );
    assert!(csv
        .iter()
        .all(|p| p.sample.is_some_and(|s| s.mem_total > 0)));
    assert!(csv.windows(2).all(|w| w[1].t > w[0].t));
    // The recorded figures are the kernel's: read here from the CSV text itself (not vmtop's
    // parser), against /proc/meminfo read in the same script just before and after.
    let text = section(&r.out, "== csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("CSV header").split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name} not in {header:?}"))
    };
    let (total_at, used_at) = (col("mem_total_kib"), col("vmalloc_used_kib"));
    let (total, used_before, used_after) = (
        r.num("rec_before_total"),
        r.num("rec_before_used"),
        r.num("rec_after_used"),
    );
    assert_eq!(total, r.num("rec_after_total"));
    // VmallocUsed moves by the 16 KiB kernel stacks of processes that come and go.
    let used_range = used_before.min(used_after) - 1024..=used_before.max(used_after) + 1024;
    let mut rows = 0;
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        let num = |i: usize| -> i64 {
            f[i].parse()
                .unwrap_or_else(|_| panic!("column {i} of {line:?}"))
        };
        assert_eq!(num(total_at), total, "MemTotal in {line:?}");
        assert!(
            used_range.contains(&num(used_at)),
            "VmallocUsed in {line:?}: /proc/meminfo read {used_before} then {used_after} kB"
        );
        rows += 1;
    }
    assert_eq!(rows, csv.len(), "{text}");
    let jsonl = vmtop::record::parse_jsonl(section(&r.out, "== jsonl")).expect("jsonl parses");
    assert!(jsonl.len() >= 8, "{} points", jsonl.len());
}

#[test]
fn probe_matches_a_bisection_by_hand() {
    // 512 MiB keeps each full-memory fill short under TCG. The first attempts of a boot have
    // up to 1 MiB more to work with than the later ones (they map fresh page tables for the
    // vmalloc range, which the kernel keeps), so one warm-up search by hand comes first.
    // By hand, insmod runs with oom_score_adj 1000 as vmtop's loader does: at the very edge
    // vmalloc's GFP_KERNEL page-table allocation can wake the OOM killer even in safe mode,
    // and it must take the loader, not the shell running this script.
    let r = lab(
        &["--mem", "512"],
        r#"
        bisect() {
            lo=16; hi=$1
            while [ $((hi - lo)) -gt 1 ]; do
                mid=$(( (lo + hi) / 2 ))
                if (echo 1000 > /proc/self/oom_score_adj; exec insmod /lab/alloc_large_mem.ko memsize=$mid) 2>/dev/null
                then rmmod alloc_large_mem; lo=$mid; else hi=$mid; fi
            done
            echo $lo
        }
        # This shell and what it starts are never the OOM victim (vmtop's loader and the
        # insmod above ask to be): a killed shell would end the test, not the attempt.
        echo -1000 > /proc/$$/oom_score_adj
        # vmtop records the kernel's vmap-area events in a tracefs instance of its own during
        # each load (6.2+: docs/areas.md), which the kernel keeps memory for (about a MiB at
        # the edge of this VM). The hand search gets the same: an instance set up as vmtop's,
        # removed before the probe makes its own.
        T=/sys/kernel/tracing/instances/hand
        E=$T/events/vmalloc/alloc_vmap_area
        if [ -d /sys/kernel/tracing/events/vmalloc/alloc_vmap_area ]; then
            mkdir $T && echo 4 > $T/buffer_size_kb && echo 'failed != 0' > $E/filter && echo 1 > $E/enable
        fi
        top=$(( $(mi MemTotal) / 1024 ))
        echo warmup=$(bisect $top)
        echo manual_ok=$(bisect $top)
        [ ! -d $T ] || { echo 0 > $E/enable; rmdir $T; }
        echo "== probe"; vmtop probe --json
        echo probe_loaded=$(loaded)
        echo mem_total_mib=$top
        echo "== probe 100T"; vmtop probe --to 100T
        echo "== end"
        "#,
    );
    let p = json_after(&r.out, "== probe");
    let ok = p["largest_ok_mib"].as_i64().expect("an answer");
    let failed = p["smallest_failed_mib"].as_i64().expect("a failure");
    assert_eq!(failed - ok, 1, "answer to within 1 MiB");
    // The default range: 16 MiB to MemTotal (as the VM's /proc/meminfo gives it).
    let top = r.num("mem_total_mib");
    assert_eq!(
        (p["from_mib"].as_i64(), p["to_mib"].as_i64()),
        (Some(16), Some(top))
    );
    let (from, to) = (16.0, top as f64);
    let loads = p["loads"].as_u64().expect("loads") as f64;
    let bound = (to - from).log2().ceil() + 2.0;
    assert!(loads <= bound, "{loads} loads > {bound}");
    // Gentle: the first guess comes from the figures and is off by a MiB or two (vmtop's
    // loader takes its share after they are read); the module's figures for it give the
    // answer to within a MiB: the guess, its correction, the neighbour that confirms, and
    // one more when the correction is itself a MiB off. Ten lab runs took 2 or 3 (README).
    assert!(loads <= 4.0, "{loads} loads: {p}");
    assert_eq!(p["strategy"], "estimate");
    // The answer is the probe's own evidence: the size that loaded and the one above that
    // failed were both tried, and nothing above MemTotal was.
    let attempts = p["attempts"].as_array().expect("attempts");
    let tried = |size: i64, loaded: bool| {
        attempts
            .iter()
            .any(|a| a["size"].as_i64() == Some(size) && a["loaded"].as_bool() == Some(loaded))
    };
    assert!(tried(ok, true) && tried(failed, false), "{p}");
    assert!(
        attempts
            .iter()
            .all(|a| a["size"].as_i64().is_some_and(|s| s <= top)),
        "{p}"
    );
    assert_eq!(r.num("probe_loaded"), 0);
    // --to 100T: capped to MemTotal, and said why; no attempt above it.
    let text = &r.out[r.out.find("== probe 100T").expect("second probe")..];
    assert!(
        text.contains(&format!("--to 104857600 MiB capped to MemTotal, {top} MiB"))
            && text.contains("exceeds total pages"),
        "{text}"
    );
    let sizes: Vec<i64> = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("attempt ")?
                .split_once(": ")?
                .1
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    assert!(!sizes.is_empty() && sizes.len() <= 4, "{text}");
    assert!(sizes.iter().all(|s| *s <= top), "{text}");
    assert!(text.contains("largest memsize that loads: "), "{text}");
    let manual = r.num("manual_ok");
    eprintln!(
        "probe answer {ok} MiB in {loads} loads; by hand {manual} MiB (warm-up {} MiB)",
        r.num("warmup")
    );
    // Issue 3 asks for 1 MiB. The module counts the free pages on per-CPU lists as available
    // (MemAvailable leaves them out, and how many there are depends on which CPU freed the
    // last buffer): without them the limit moved by up to 1.5 MiB between identical loads
    // and the probe landed 0-2 MiB below the hand search. What stays is vmtop's own
    // footprint while its loader runs (~0.5 MiB more than busybox insmod).
    assert!(
        (ok - manual).abs() <= 1,
        "probe {ok} MiB vs by hand {manual} MiB"
    );
}

#[test]
fn unsafe_mode_oom_kill_is_survived_and_diagnosed() {
    let r = lab(
        &[],
        r#"
        sleep 600 & sentinel=$!
        ask=$(( $(mi MemTotal) / 1024 - 40 ))
        echo "== guard"; vmtop load --memsize $ask --mode unsafe --json; echo guard_rc=$?
        echo guard_kmsg=$(dmesg | grep -c alloc_large_mem)
        echo "== oom"; vmtop load --memsize $ask --mode unsafe --force --json; echo oom_rc=$?
        kill -0 $sentinel && echo sentinel_alive=1 || echo sentinel_alive=0
        echo oom_loaded=$(loaded)
        echo oom_lines=$(dmesg | grep -c -E 'Out of memory|oom-kill')
        vmtop load --memsize 16; echo after_rc=$?; vmtop unload
        "#,
    );
    let guard = json_after(&r.out, "== guard");
    assert_eq!(r.num("guard_rc"), 1);
    let gs = guard["event"]["outcome"]["diagnosis"]["summary"].to_string();
    assert!(gs.contains("Not attempted"), "{gs}");
    assert_eq!(cause(&guard), "refused_by_guard", "{guard}");
    assert_eq!(
        r.num("guard_kmsg"),
        0,
        "the guard refuses before init_module"
    );
    let oom = json_after(&r.out, "== oom");
    assert_eq!(cause(&oom), "oom_killed", "{oom}");
    assert_eq!(r.num("oom_rc"), 1, "vmtop itself survived and reported");
    assert_eq!(r.num("sentinel_alive"), 1);
    assert_eq!(r.num("oom_loaded"), 0);
    assert!(r.num("oom_lines") >= 1);
    assert_eq!(r.num("after_rc"), 0, "the kernel is usable afterwards");
}

fn diagnosis_text(v: &serde_json::Value) -> String {
    let d = &v["event"]["outcome"]["diagnosis"];
    format!("{} {}", d["summary"], d["detail"])
}

#[test]
fn permissions_as_the_kernel_sees_them() {
    // util-linux setpriv sets uids and capabilities for one command (busybox's cannot change
    // uids). Each set of credentials is tried three ways: the kernel's own verdict with busybox
    // insmod (no vmtop), what `vmtop status` predicts, and `vmtop load`, which asks the kernel
    // and diagnoses its answer.
    let copies = copy_with_libraries("setpriv", "/lab/setpriv");
    let args: Vec<&str> = copies.iter().map(String::as_str).collect();
    let r = lab(
        &args,
        r#"
        cd /tmp
        run_as() {
            who=$1; shift
            case $who in
            nobody) /lab/setpriv --reuid=65534 --regid=65534 --clear-groups "$@" ;;
            nobody_cap) /lab/setpriv --reuid=65534 --regid=65534 --clear-groups \
                --inh-caps=+sys_module --ambient-caps=+sys_module "$@" ;;
            root_nocap) /lab/setpriv --bounding-set=-sys_module "$@" ;;
            userns) /lab/setpriv --reuid=65534 --regid=65534 --clear-groups unshare -r "$@" ;;
            esac
        }
        for who in nobody nobody_cap root_nocap userns; do
            echo "$who: $(run_as $who grep -E 'Uid|CapEff|CapBnd' /proc/self/status | tr '\t\n' '  ')"
            run_as $who insmod /lab/alloc_large_mem.ko memsize=8 2>/tmp/insmod.err
            echo ${who}_insmod_rc=$?
            echo "${who}_insmod_err: $(cat /tmp/insmod.err)"
            if [ "$(loaded)" = 1 ]; then run_as $who rmmod alloc_large_mem; echo ${who}_rmmod_rc=$?; fi
            echo "== $who status"; run_as $who vmtop status --json
            echo "== $who load"; run_as $who vmtop load --memsize 8 --json; echo ${who}_load_rc=$?
            echo ${who}_loaded=$(loaded)
            if [ "$(loaded)" = 1 ]; then run_as $who vmtop unload; echo ${who}_unload_rc=$? ${who}_unloaded=$(loaded); fi
        done
        run_as nobody vmtop probe --to 64 2>/tmp/probe.err; echo nobody_probe_rc=$?
        echo "nobody_probe_err: $(cat /tmp/probe.err)"
        # Switched off until reboot: last.
        echo 1 > /proc/sys/kernel/modules_disabled
        insmod /lab/alloc_large_mem.ko memsize=8 2>/dev/null; echo disabled_insmod_rc=$?
        echo "== disabled status"; vmtop status --json
        echo "== disabled load"; vmtop load --memsize 8 --json; echo disabled_load_rc=$?
        "#,
    );
    let line = |key: &str| {
        r.out
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("{key} missing:\n{}", r.out))
            .to_string()
    };
    // Who may load, as the kernel decides: the capability, not the uid.
    for (who, kernel_lets_it) in [
        ("nobody", false),
        ("nobody_cap", true),
        ("root_nocap", false),
        ("userns", false),
    ] {
        let insmod_rc = r.num(&format!("{who}_insmod_rc"));
        assert_eq!(
            insmod_rc == 0,
            kernel_lets_it,
            "{who}: insmod rc {insmod_rc}"
        );
        if kernel_lets_it {
            assert_eq!(r.num(&format!("{who}_rmmod_rc")), 0, "{who}");
        } else {
            let err = line(&format!("{who}_insmod_err:"));
            assert!(err.contains("Operation not permitted"), "{who}: {err}");
        }
        // vmtop's prediction agrees with the kernel.
        let st = json_after(&r.out, &format!("== {who} status"));
        assert_eq!(st["may_load"], kernel_lets_it, "{who}: {st}");
        // And vmtop's load gets the kernel's answer, not its own.
        let load = json_after(&r.out, &format!("== {who} load"));
        assert_eq!(load["asked_kernel"], true, "{who}: {load}");
        let rc = r.num(&format!("{who}_load_rc"));
        if kernel_lets_it {
            assert_eq!(rc, 0, "{who}: {load}");
            assert_eq!(r.num(&format!("{who}_loaded")), 1, "{who}");
            assert_eq!(r.num(&format!("{who}_unload_rc")), 0, "{who}");
            assert_eq!(r.num(&format!("{who}_unloaded")), 0, "{who}");
        } else {
            assert_eq!(rc, 4, "{who}: {load}");
            assert_eq!(load["errno"], 1, "{who}: {load}");
            assert_eq!(cause(&load), "not_permitted", "{who}: {load}");
            let text = diagnosis_text(&load);
            assert!(text.contains("CAP_SYS_MODULE"), "{who}: {text}");
            assert!(text.contains("The kernel refused (EPERM)"), "{who}: {text}");
            assert_eq!(r.num(&format!("{who}_loaded")), 0, "{who}");
        }
    }
    let st =
        |who: &str| json_after(&r.out, &format!("== {who} status"))["kernel"]["privileges"].clone();
    assert_eq!(st("nobody")["euid"], 65534);
    assert_eq!(st("nobody")["cap_sys_module"], false);
    assert_eq!(st("nobody_cap")["euid"], 65534);
    assert_eq!(st("nobody_cap")["cap_sys_module"], true);
    assert_eq!(st("root_nocap")["euid"], 0);
    assert_eq!(st("root_nocap")["cap_sys_module_bounding"], false);
    assert_eq!(
        st("userns")["cap_sys_module"],
        true,
        "full caps inside its namespace"
    );
    assert_eq!(st("userns")["user_namespace"], "0 65534 1");
    let text = |who: &str| diagnosis_text(&json_after(&r.out, &format!("== {who} load")));
    assert!(text("nobody").contains("uid 65534"), "{}", text("nobody"));
    assert!(text("root_nocap").contains("running as root, but without CAP_SYS_MODULE"));
    assert!(text("root_nocap").contains("--cap-add SYS_MODULE"));
    assert!(
        text("userns").contains("user namespace"),
        "{}",
        text("userns")
    );
    // probe refuses up front (its first load would be refused anyway), with exit code 4.
    assert_eq!(r.num("nobody_probe_rc"), 4);
    assert!(line("nobody_probe_err:").contains("CAP_SYS_MODULE"));
    // kernel.modules_disabled: root with every capability is refused too, and told why.
    assert_ne!(r.num("disabled_insmod_rc"), 0);
    assert_eq!(json_after(&r.out, "== disabled status")["may_load"], false);
    let disabled = json_after(&r.out, "== disabled load");
    assert_eq!(r.num("disabled_load_rc"), 4);
    assert!(
        diagnosis_text(&disabled).contains("modules_disabled"),
        "{disabled}"
    );
}

/// What the VM needs to sign its module with a fresh key no kernel knows: the key (made here
/// by openssl) at /lab/key.pem, and the lab kernel's scripts/sign-file at /lab/sign-file. The
/// VM signs the module built for the kernel it booted. Returns the `--copy` arguments and the
/// private folder that holds the key (removed when dropped).
fn signing_kit() -> (Vec<String>, tempfile::TempDir) {
    let sign_file = std::fs::read_dir(lab_dir().join("root/usr/lib"))
        .expect("lab kernel tree (make lab)")
        .flatten()
        .map(|e| e.path().join("scripts/sign-file"))
        .find(|p| p.is_file())
        .expect("scripts/sign-file in the lab's linux-kbuild");
    let dir = temp_dir("sign");
    let key = dir.path().join("key.pem");
    run_ok(
        std::process::Command::new("openssl")
            .args([
                "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "1", "-batch", "-x509",
            ])
            .args([
                "-subj",
                "/CN=vmtop test key, not enrolled",
                "-newkey",
                "rsa:2048",
            ])
            .args(["-outform", "PEM", "-out"])
            .arg(&key)
            .arg("-keyout")
            .arg(&key),
    );
    let mut args = copy_with_libraries(&sign_file.display().to_string(), "/lab/sign-file");
    args.push("--copy".into());
    args.push(format!("{}:/lab/key.pem", key.display()));
    (args, dir)
}

#[test]
fn signature_enforcement_and_lockdown_refusals() {
    let (kit, _key_dir) = signing_kit();
    let script = r#"
        /lab/sign-file sha256 /lab/key.pem /lab/key.pem /lab/alloc_large_mem.ko /tmp/signed.ko
        echo sign_rc=$?
        echo "== status"; vmtop status --json
        echo "== unsigned"; vmtop load --memsize 8 --json; echo unsigned_loaded=$(loaded)
        echo "== signed"; vmtop load --memsize 8 --module /tmp/signed.ko --json; echo signed_loaded=$(loaded)
        "#;
    let boot = |arg: &str| {
        let mut args = vec!["--append", arg];
        args.extend(kit.iter().map(String::as_str));
        lab(&args, script)
    };
    let sig = boot("module.sig_enforce=1");
    let lock = boot("lockdown=integrity");
    assert_eq!(sig.num("sign_rc"), 0, "{}", sig.out);
    assert_eq!(lock.num("sign_rc"), 0, "{}", lock.out);

    // What vmtop found, in status and in every diagnosis.
    let st = json_after(&sig.out, "== status")["kernel"]["signing"].clone();
    assert_eq!(st["sig_enforce"], true, "{st}");
    assert_eq!(st["secure_boot"], "no_efi", "{st}");
    assert_eq!(st["cmdline"][0], "module.sig_enforce=1", "{st}");
    let st = json_after(&lock.out, "== status")["kernel"]["signing"].clone();
    assert_eq!(st["lockdown"], "none [integrity] confidentiality", "{st}");
    assert_eq!(st["sig_enforce"], false, "{st}");

    for (run, errno, want_cause, facts) in [
        (
            &sig,
            129,
            "signature_rejected",
            [
                "sig_enforce reads Y",
                "the kernel command line has module.sig_enforce=1",
            ],
        ),
        (
            &lock,
            1,
            "lockdown",
            [
                "/sys/kernel/security/lockdown reads \\\"none [integrity] confidentiality\\\"",
                "the kernel command line has lockdown=integrity",
            ],
        ),
    ] {
        for (case, signed) in [("== unsigned", false), ("== signed", true)] {
            let v = json_after(&run.out, case);
            assert_eq!(v["errno"], errno, "{case}: {v}");
            assert_eq!(cause(&v), want_cause, "{case}: {v}");
            let text = diagnosis_text(&v);
            for fact in facts {
                assert!(text.contains(fact), "{case}: {fact} missing: {text}");
            }
            assert!(
                text.contains("Secure Boot is off (booted without EFI)"),
                "{text}"
            );
            assert!(
                text.contains("sudo mokutil --import /var/lib/dkms/mok.pub"),
                "{text}"
            );
            assert!(text.contains("reboot"), "{text}");
            assert!(text.contains("vmtop lab"), "{text}");
            if signed {
                assert!(text.contains("the module file is signed"), "{text}");
                assert!(text.contains("does not trust"), "{case}: {text}");
            } else {
                assert!(text.contains("the module file is not signed"), "{text}");
                assert!(text.contains("sudo make install"), "{text}");
            }
        }
        assert_eq!(run.num("unsigned_loaded"), 0);
        assert_eq!(run.num("signed_loaded"), 0);
    }
    // The kernel's own reason for the signed one under sig_enforce: the key, not the signature.
    let v = json_after(&sig.out, "== signed");
    assert_eq!(
        v["event"]["outcome"]["diagnosis"]["evidence"][0],
        "Loading of module with unavailable key is rejected",
        "{v}"
    );
}
