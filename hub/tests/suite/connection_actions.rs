//! Connector actions through `POST /api/connections/{id}/actions/{action}`: a secret the action
//! hands back is stored (encrypted) and never answered; unknown actions are named.

use crate::support;

use serde_json::json;
use support::{databases, plugin_dir, TestHub};

#[test]
fn an_action_can_replace_a_stored_secret_without_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = plugin_dir(&["test-plugin-good"]);
    for db in databases(dir.path()) {
        let hub = TestHub::start(
            &db,
            tempfile::tempdir().unwrap(),
            &[],
            &[plugins.path().to_path_buf()],
        );
        let (s, body) = hub.post(
            "/api/connections",
            &json!({"connector": "good", "name": "テスト", "registration_number": "TEST-0001", "phone": "03-0000-0000",
                    "settings": {"tenant": "actions"}, "credentials": {"api_token": "wrong"}}),
        );
        assert_eq!(s, 201, "{body}");
        let id = body["id"].as_str().unwrap().to_string();
        let (_, check) = hub.post(&format!("/api/connections/{id}/check"), &json!({}));
        assert_eq!(check["ok"], false, "{check}");

        let (s, body) = hub.post(
            &format!("/api/connections/{id}/actions/set_token"),
            &json!({"token": "s3cret-new-token"}),
        );
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["result"]["message"]["ja"], "トークンを変更しました");
        assert!(body["result"].get("store_credentials").is_none(), "{body}");
        assert!(!body.to_string().contains("s3cret-new-token"));
        let (_, check) = hub.post(&format!("/api/connections/{id}/check"), &json!({}));
        assert_eq!(
            check["ok"], true,
            "the stored token was not replaced: {check}"
        );
        let (_, conn) = hub.get(&format!("/api/connections/{id}"));
        assert!(!conn.to_string().contains("s3cret-new-token"));

        let (s, body) = hub.post(&format!("/api/connections/{id}/actions/tables"), &json!({}));
        assert_eq!(s, 200, "{body}");
        assert!(
            body["result"]["rows"]
                .as_array()
                .is_some_and(|r| !r.is_empty()),
            "{body}"
        );

        // The connector's refusal keeps its kind: invalid data → 422 with its message.
        let (s, body) = hub.post(
            &format!("/api/connections/{id}/actions/set_token"),
            &json!({"token": "wrong"}),
        );
        assert_eq!(s, 422, "{body}");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("refused"));

        let (s, body) = hub.post(
            &format!("/api/connections/{id}/actions/explode"),
            &json!({}),
        );
        assert_eq!(s, 422, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("explode") && message.contains("set_token"),
            "{message}"
        );

        let (s, body) = hub.send(
            "PUT",
            &format!("/api/connections/{id}/objects/companies/files/..%2Fescape.csv"),
            Some(&json!({})),
        );
        assert_eq!(s, 400, "{body}");
        let logs = hub.stop();
        assert!(
            !logs.contains("s3cret-new-token"),
            "the secret reached the log"
        );
    }
}
