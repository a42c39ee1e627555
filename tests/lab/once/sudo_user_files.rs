//! Issue 20 under a real sudo, in the Debian root (user `dev`, sudo without a password):
//! `sudo vmtop` reads dev's settings file as dev, records and saves the screen into dev's
//! folders as dev's files, and a settings file that is a link to /etc/shadow is refused by
//! the kernel without a line of it shown.

use crate::common::lab;

#[test]
fn sudo_vmtop_reads_and_writes_the_users_files_as_the_user() {
    let r = lab(
        &["--root", "debian"],
        r#"
        T() { su dev -c "tmux $*"; }
        screen() { T capture-pane -p -t run > /tmp/screen; }
        w() { i=0; while [ $i -lt $2 ]; do screen; grep -q -- "$1" /tmp/screen && return 0; sleep 1; i=$((i+1)); done
              echo "TIMEOUT waiting for $1"; cat /tmp/screen; return 1; }
        make -C /src/kmod-src >/dev/null 2>&1; echo module_rc=$?
        su dev -c 'mkdir -p ~/.config/vmtop ~/shots && printf "glyphs = \"ascii\"\nyes = true\nmemsize = 64\nscreenshot-dir = \"/home/dev/shots\"\n" > ~/.config/vmtop/config.toml'
        T new-session -d -s run -x 120 -y 34 "'sudo /src/target/release/vmtop --record /home/dev/class.jsonl; echo EXITED=\$?; sleep 600'"
        w "MemAvailable" 90
        echo ascii_legend=$(grep -c -- "- MemAvailable" /tmp/screen)
        T send-keys -t run l
        w "LOADED" 120
        T send-keys -t run s
        w "screen saved" 30
        T send-keys -t run q
        w "before quitting" 20
        T send-keys -t run y
        w "EXITED=" 90
        echo "== screen"; cat /tmp/screen
        echo shots=$(ls /home/dev/shots | wc -l) shot_owner=$(stat -c %U /home/dev/shots/*.svg | sort -u | tr '\n' ,)
        echo rec_owner=$(stat -c %U /home/dev/class.jsonl)
        echo rec_events=$(grep -c '"type":"event"' /home/dev/class.jsonl)
        echo rec_load=$(grep '"type":"event"' /home/dev/class.jsonl | grep -c '"kind":"load","memsize_mib":64')
        echo loaded_at_end=$(grep -c '^alloc_large_mem ' /proc/modules)
        su dev -c 'ln -sf /etc/shadow ~/.config/vmtop/config.toml'
        echo "== shadow"
        su dev -c 'sudo /src/target/release/vmtop config' 2>&1
        echo shadow_rc=$?
        echo "== end"
        "#,
    );
    assert_eq!(r.num("module_rc"), 0, "{}", r.out);
    // dev's settings reached root's dashboard: the charts in ASCII, 64 MiB loaded without
    // a question (yes = true).
    assert!(r.num("ascii_legend") >= 1, "{}", r.out);
    assert_eq!(r.num("rec_load"), 1, "{}", r.out);
    assert!(
        r.num("rec_events") >= 2,
        "the load and the unload on quit:\n{}",
        r.out
    );
    assert_eq!(r.num("loaded_at_end"), 0);
    // What root's dashboard wrote for dev is dev's.
    assert_eq!(r.num("shots"), 2, "an SVG and a PNG:\n{}", r.out);
    assert_eq!(r.get("shot_owner"), "dev,");
    assert_eq!(r.get("rec_owner"), "dev");
    // /etc/shadow through dev's settings file: refused, not one of its lines shown.
    let shadow = crate::common::section(&r.out, "== shadow");
    assert!(shadow.contains("ermission denied"), "{shadow}");
    assert!(!shadow.contains("root:"), "{shadow}");
    assert_ne!(r.num("shadow_rc"), 0);
}
