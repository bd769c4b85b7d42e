//! Webhooks sent as Zoom sends them: the `x-zm-signature` HMAC over `v0:{timestamp}:{body}`,
//! and the URL-validation handshake checked.

use super::*;

impl FakeZoom {
    pub(crate) fn send_webhook(&self, body: &Value) -> Reply {
        let url = body["url"].as_str().unwrap_or("");
        let secret = body["secret"].as_str().unwrap_or("");
        let event = body["event"].as_str().unwrap_or("");
        let plain = if event == "endpoint.url_validation" {
            Some(self.token("plain"))
        } else {
            None
        };
        let payload = match &plain {
            Some(p) => json!({"plainToken": p}),
            None => body.get("payload").cloned().unwrap_or(json!({})),
        };
        let now = self.now();
        let event_ts = body
            .get("event_ts")
            .and_then(Value::as_i64)
            .unwrap_or_else(|| {
                // Zoom's event_ts has millisecond precision.
                let ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.subsec_millis() as i64)
                    .unwrap_or(0);
                now * 1000 + ms
            });
        let raw = json!({"event": event, "payload": payload, "event_ts": event_ts}).to_string();
        let ts = body
            .get("timestamp")
            .and_then(Value::as_i64)
            .unwrap_or(now)
            .to_string();
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("v0:{ts}:{raw}").as_bytes());
        let sig = format!("v0={}", hex(&mac.finalize().into_bytes()));
        let headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("x-zm-signature".to_string(), sig),
            ("x-zm-request-timestamp".to_string(), ts),
            ("x-zm-request-id".to_string(), self.token("req")),
        ];
        match http::send("POST", url, &headers, raw.as_bytes()).map(|a| (a.status, a.body)) {
            Ok((status, answer)) => {
                // What was sent, headers included, so a test can replay the delivery exactly.
                let sent_headers: serde_json::Map<String, Value> =
                    headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                let mut out =
                    json!({"status": status, "body": answer, "sent": raw, "headers": sent_headers});
                if let Some(p) = plain {
                    let mut m =
                        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
                    m.update(p.as_bytes());
                    let expected = hex(&m.finalize().into_bytes());
                    let got: Value = serde_json::from_str(&answer).unwrap_or(Value::Null);
                    out["validated"] = json!(
                        got["plainToken"] == json!(p) && got["encryptedToken"] == json!(expected)
                    );
                }
                Reply::json(200, &out)
            }
            Err(e) => Reply::json(502, &json!({"error": e})),
        }
    }
}
