//! Config providers in a running `sluice standalone` against the real broker: `${file:..}`,
//! `${directory:..}` and `${env:..}` resolve when tasks start (a rotated secret is read on
//! restart), the REST API shows the placeholders, validation hides a password, and the
//! secret appears nowhere in the worker's DEBUG log.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;

#[test]
fn placeholders_resolve_at_task_start_and_never_leave_the_worker() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let topic = unique("providers");
    create_topic(&topic, 1);
    let secret = format!("Pa55-{}", unique("secret"));
    let (source_file, out1, out2) = (d.join("in.txt"), d.join("out1.txt"), d.join("out2.txt"));
    let secrets = d.join("secrets.properties");
    let write_secrets = |sink: &std::path::Path| {
        write_file(
            &secrets,
            &format!("sink.file={}\ndb.password={secret}\n", sink.display()),
        );
    };
    write_secrets(&out1);
    std::fs::create_dir(d.join("vault")).unwrap();
    write_file(
        &d.join("vault/source.file"),
        &source_file.display().to_string(),
    );

    let worker = worker_props(d, 500);
    let mut text = std::fs::read_to_string(&worker).unwrap();
    text.push_str(&format!(
        "config.providers=file,directory,env\n\
         config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider\n\
         config.providers.file.param.allowed.paths={d}\n\
         config.providers.directory.class=DirectoryConfigProvider\n\
         config.providers.env.class=EnvVar\n\
         config.providers.env.param.allowlist.pattern=SLUICE_CP_.*\n",
        d = d.display()
    ));
    write_file(&worker, &text);
    let (file_ref, dir_ref) = (
        secrets.display().to_string(),
        d.join("vault").display().to_string(),
    );
    let source = write_file(
        &d.join("source.properties"),
        &format!(
            "name=cp-source\nconnector.class=FileStreamSource\ntasks.max=1\n\
             file=${{directory:{dir_ref}:source.file}}\ntopic=${{env:SLUICE_CP_TOPIC}}\n"
        ),
    );
    let sink_file_placeholder = format!("${{file:{file_ref}:sink.file}}");
    let sink = write_file(
        &d.join("sink.properties"),
        &format!(
            "name=cp-sink\nconnector.class=FileStreamSink\ntasks.max=1\n\
             file={sink_file_placeholder}\ntopics=${{env:SLUICE_CP_TOPIC}}\n\
             db.password=${{file:{file_ref}:db.password}}\n"
        ),
    );

    let sluice = Sluice::standalone_with_env(
        d,
        &worker,
        &[&source, &sink],
        &[("RUST_LOG", "debug"), ("SLUICE_CP_TOPIC", &topic)],
    );
    let url = sluice.rest_url();

    append_lines(&source_file, ["first".to_string()]);
    wait_for(
        "the first line in out1.txt",
        Duration::from_secs(60),
        || lines(&out1) == ["first"],
    );

    // The REST API shows what was configured, never the resolved values.
    let config = get_json(&format!("{url}/connectors/cp-sink/config"));
    assert_eq!(config["file"], sink_file_placeholder.as_str());
    assert_eq!(config["topics"], "${env:SLUICE_CP_TOPIC}");
    let tasks = get_json(&format!("{url}/connectors/cp-sink/tasks"));
    assert_eq!(tasks[0]["config"]["file"], sink_file_placeholder.as_str());

    // A rotated secret is read again when the task restarts.
    write_secrets(&out2);
    let (status, _, body) = http(
        "POST",
        &format!("{url}/connectors/cp-sink/tasks/0/restart"),
        None,
    );
    assert_eq!(status, 204, "{body}");
    wait_for(
        "the sink task running again",
        Duration::from_secs(30),
        || get_json(&format!("{url}/connectors/cp-sink/status"))["tasks"][0]["state"] == "RUNNING",
    );
    append_lines(&source_file, ["second".to_string()]);
    wait_for(
        "the second line in out2.txt",
        Duration::from_secs(60),
        || lines(&out2) == ["second"],
    );
    assert_eq!(lines(&out1), ["first"], "nothing more goes to the old file");

    // Validation resolves placeholders, and shows a password-type key as [hidden].
    let body = serde_json::json!({
        "connector.class": "sluice.connect.parquet.ParquetSinkConnector",
        "name": "v",
        "topics": "t",
        "store.url": format!("file://{}", d.display()),
        "flush.size": "10",
        "aws.secret.access.key": format!("${{file:{file_ref}:db.password}}"),
    })
    .to_string();
    let (status, _, answer) = http(
        "PUT",
        &format!("{url}/connector-plugins/ParquetSink/config/validate"),
        Some(&body),
    );
    assert_eq!(status, 200, "{answer}");
    let infos: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let shown = infos["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["value"]["name"] == "aws.secret.access.key")
        .unwrap();
    assert_eq!(shown["value"]["value"], "[hidden]");
    assert_eq!(shown["definition"]["type"], "PASSWORD");
    assert!(!answer.contains(&secret));

    let log_lines = sluice.log_lines();
    let status = sluice.terminate();
    assert!(status.success(), "clean exit: {status}");
    assert!(
        log_lines.iter().any(|l| l.contains("DEBUG")),
        "the log is at DEBUG"
    );
    let leaked: Vec<&String> = log_lines.iter().filter(|l| l.contains(&secret)).collect();
    assert!(leaked.is_empty(), "the secret in the log: {leaked:?}");
}
