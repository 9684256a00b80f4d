//! The command line's configuration: a TOML file (HUB_CONFIG) < environment < flags, and a bad
//! key or value named in the error; JSON logs on request.

use crate::support;

use std::process::Command;
use support::HUB;

/// Runs `hub` in a folder of its own, so that a command falling back to the default
/// `data/hub.db` never leaves a database in the source tree.
fn hub(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new(HUB)
        .current_dir(cwd.path())
        .args(args)
        .env_remove("HUB_DATABASE_URL")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_config_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("hub.toml");
    std::fs::write(
        &cfg,
        "listen = \"127.0.0.1:1\"\ndatabse_url = \"sqlite://x.db\"\n",
    )
    .unwrap();
    let (code, _, err) = hub(&["migrate"], &[("HUB_CONFIG", cfg.to_str().unwrap())]);
    assert_eq!(code, 1);
    assert!(
        err.contains("databse_url") && err.contains("unknown field"),
        "{err}"
    );

    let (code, _, err) = hub(&["migrate"], &[("HUB_LISTEN", "not-an-address")]);
    assert_eq!(code, 1);
    assert!(
        err.contains("listen (HUB_LISTEN)") && err.contains("not-an-address"),
        "{err}"
    );

    let (code, _, err) = hub(&["migrate", "--database", "mysql://x"], &[]);
    assert_eq!(code, 1);
    assert!(err.contains("database_url (flag)"), "{err}");

    let (code, _, err) = hub(&["migrate"], &[("HUB_MASTER_KEY", "too-short")]);
    assert_eq!(code, 1);
    assert!(err.contains("HUB_MASTER_KEY"), "{err}");
}

#[test]
fn file_then_env_then_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (file_db, env_db, flag_db) = (
        dir.path().join("file.db"),
        dir.path().join("env.db"),
        dir.path().join("flag.db"),
    );
    let cfg = dir.path().join("hub.toml");
    std::fs::write(
        &cfg,
        format!("database_url = \"sqlite://{}\"\n", file_db.display()),
    )
    .unwrap();
    let key = ("HUB_MASTER_KEY", support::MASTER_KEY);
    let file_cfg = ("HUB_CONFIG", cfg.to_str().unwrap());
    let env_url = format!("sqlite://{}", env_db.display());
    let flag_url = format!("sqlite://{}", flag_db.display());

    assert_eq!(hub(&["migrate"], &[key, file_cfg]).0, 0);
    assert!(file_db.exists() && !env_db.exists());
    assert_eq!(
        hub(
            &["migrate"],
            &[key, file_cfg, ("HUB_DATABASE_URL", &env_url)]
        )
        .0,
        0
    );
    assert!(env_db.exists() && !flag_db.exists());
    let (code, out, _) = hub(
        &["migrate", "--database", &flag_url],
        &[key, file_cfg, ("HUB_DATABASE_URL", &env_url)],
    );
    assert_eq!(code, 0);
    assert!(flag_db.exists());
    assert!(out.contains("migrations applied"), "{out}");
}

#[test]
fn json_logs_and_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/data/hub.db", dir.path().display());
    let (code, token, err) = hub(
        &[
            "token",
            "create",
            "ci",
            "--database",
            &db,
            "--log-format",
            "json",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(token.trim().starts_with("rkh_"));
    for line in err.lines().filter(|l| !l.trim().is_empty()) {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
    }
    // No HUB_MASTER_KEY: a key file is made beside the database, readable by its owner only.
    let key_file = dir.path().join("data/master.key");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key_file).unwrap().permissions(),
    ) & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn admin_create_takes_the_password_from_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let create = |name: &str, pw: &str| {
        let mut child = Command::new(HUB)
            .args(["admin", "create", name, "--database", &db])
            .env("HUB_MASTER_KEY", support::MASTER_KEY)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{pw}\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(create("yamada", "correct-horse-battery").0, 0);
    let (code, err) = create("yamada", "correct-horse-battery");
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    let (code, err) = create("sato", "short");
    assert_eq!(code, 1);
    assert!(err.contains("password") && err.contains("10"), "{err}");
}

#[test]
fn a_wrong_or_missing_master_key_is_refused_and_rotation_keeps_secrets_readable() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/data/hub.db", dir.path().display());
    let key_file = dir.path().join("data/master.key");
    let run = |args: &[&str], envs: &[(&str, &str)]| {
        let mut all = args.to_vec();
        all.extend(["--database", db.as_str()]);
        hub(&all, envs)
    };
    // First start: a key file is made beside the database, and a token is stored.
    let (code, _, err) = run(&["token", "create", "first"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(key_file.exists());
    let original = std::fs::read_to_string(&key_file).unwrap();
    // Another key in the variable: refused, naming the variable; nothing written.
    let (code, _, err) = run(
        &["token", "create", "second"],
        &[("HUB_MASTER_KEY", &"ab".repeat(32))],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("HUB_MASTER_KEY") && err.contains("not the key"),
        "{err}"
    );
    // The key file gone: refused, naming the file, and no new key file is made.
    let moved = dir.path().join("backup.key");
    std::fs::rename(&key_file, &moved).unwrap();
    for args in [&["token", "create", "third"][..], &["migrate"][..]] {
        let (code, _, err) = run(args, &[]);
        assert_eq!(code, 1, "{args:?}");
        assert!(err.contains(&key_file.display().to_string()), "{err}");
        assert!(!key_file.exists(), "{args:?} created a new key file");
    }
    std::fs::rename(&moved, &key_file).unwrap();
    // Rotation: a new key in the same file, and the database opens with it (and not the old).
    let (code, out, err) = run(&["key", "rotate"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("re-encrypted"), "{out}");
    let rotated = std::fs::read_to_string(&key_file).unwrap();
    assert_ne!(rotated.trim(), original.trim());
    let (code, _, err) = run(&["token", "create", "fourth"], &[]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["migrate"], &[("HUB_MASTER_KEY", original.trim())]);
    assert_eq!(code, 1, "the old key still opens the database: {err}");
}
