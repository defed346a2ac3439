//! Kafka's basic-auth REST extension on a running `sluice standalone`: a JAAS file passed as
//! Kafka's scripts pass it (`-Djava.security.auth.login.config=` in `KAFKA_OPTS`), 401 with
//! Kafka's body without valid credentials, 200 with them.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::process::Command;

use common::*;

/// (status, whole response) of a GET with an optional `Authorization` header.
fn get(url: &str, path: &str, authorization: Option<&str>) -> (u16, String) {
    let addr = url.strip_prefix("http://").unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split(' ').nth(1).unwrap().parse().unwrap();
    (status, out)
}

#[test]
fn basic_auth_extension_refuses_without_valid_credentials() {
    require_broker();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let users = write_file(&d.join("users.properties"), "alice=s3cr3t\nbob=hunter2\n");
    let jaas = write_file(
        &d.join("connect.jaas"),
        &format!(
            "KafkaConnect {{\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n  file=\"{}\";\n}};\n",
            users.display()
        ),
    );
    let worker = worker_props(d, 500);
    let text = std::fs::read_to_string(&worker).unwrap()
        + "rest.extension.classes=org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension\n";
    write_file(&worker, &text);
    let kafka_opts = format!(
        "-Xmx256m -Djava.security.auth.login.config={}",
        jaas.display()
    );
    let sluice =
        Sluice::standalone_with_env(d, &worker, &[], &[("KAFKA_OPTS", kafka_opts.as_str())]);
    let url = sluice.rest_url();

    let (status, response) = get(&url, "/connectors", None);
    assert_eq!(status, 401, "{response}");
    assert!(
        response.ends_with("User cannot access the resource."),
        "{response}"
    );
    assert!(
        response
            .to_ascii_lowercase()
            .contains("www-authenticate: basic"),
        "{response}"
    );
    // alice:s3cr3t, alice:wrong, and a user the file does not have.
    assert_eq!(
        get(&url, "/connectors", Some("Basic YWxpY2U6czNjcjN0")).0,
        200
    );
    assert_eq!(get(&url, "/", Some("Basic YWxpY2U6czNjcjN0")).0, 200);
    assert_eq!(
        get(&url, "/connectors", Some("Basic YWxpY2U6d3Jvbmc=")).0,
        401
    );
    assert_eq!(
        get(&url, "/connectors", Some("Basic bWFsbG9yeTpzM2NyM3Q=")).0,
        401
    );
    assert_eq!(
        get(&url, "/connectors", Some("Bearer YWxpY2U6czNjcjN0")).0,
        401
    );
    assert!(sluice.terminate().success());

    // Without a JAAS file the worker does not start: exit code 2, one line naming the key.
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("standalone")
        .arg(&worker)
        .env_remove("KAFKA_OPTS")
        .env_remove("SLUICE_JAAS_CONFIG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("rest.extension.classes"), "{stderr}");
}
