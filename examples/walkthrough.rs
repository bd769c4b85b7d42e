//! `make demo` before WordPress is up: one telemedicine appointment's life, driven through
//! the same JSON operations the PHP host calls, with Zoom's answers played back. Every
//! request printed is exactly what the host would send.

use kc_telemed::abi::dispatch;
use serde_json::{json, Value};

fn call(op: &str, input: Value) -> Value {
    let answer: Value = serde_json::from_str(&dispatch(
        json!({"op": op, "input": input}).to_string().as_bytes(),
    ))
    .unwrap();
    match answer.get("ok") {
        Some(ok) => ok.clone(),
        None => panic!("{op} failed: {}", answer["error"]),
    }
}

fn show(title: &str, v: &Value) {
    println!("\n== {title}\n{}", serde_json::to_string_pretty(v).unwrap());
}

fn main() {
    let now = 1_767_250_000; // 2026-01-01 06:46:40 UTC
    let auth = json!({"access_token": "demo-access-token", "api_url": "https://api.zoom.us"});

    let connect = call(
        "oauth.authorize",
        json!({
            "client_id": "DemoClientId01",
            "redirect_uri": "https://clinic.example/wp-json/kivicare/v1/settings/zoom-telemed/callback",
            "user_id": 7, "now": now, "site_key": "demo-site-key-0123456789abcdef0123456789",
            "random": "5a".repeat(16)
        }),
    );
    show(
        "1. Doctor 7 connects Zoom: authorize URL (signed state, PKCE S256)",
        &connect["url"],
    );

    let plan = call("mapping.plan", json!({"intent": "ensure", "now": now}));
    show("2. Appointment 42 confirmed: the core's plan", &plan);
    let row = call(
        "mapping.reserve",
        json!({
            "appointment_id": 42, "doctor_id": 7, "patient_id": 9, "host": "me", "now": now,
            "random": "c0ffee00112233445566"
        }),
    );
    show(
        "3. Pending mapping row reserved before Zoom is called",
        &row,
    );

    let create = call(
        "meeting.create",
        json!({
            "auth": auth, "host": "me",
            "appointment": {"id": 42, "doctor_id": 7, "patient_id": 9, "start_unix": 1_767_261_600,
                "duration_min": 30, "timezone": "Asia/Kolkata", "correlation_ref": row["correlation_ref"]},
            "random": "3f9a0c41d27be85613c4f09e7a2d5b61"
        }),
    );
    show(
        "4. Create request (10:00 UTC is 15:30 in Kolkata; start_time stays UTC)",
        &create,
    );

    let body: Value = serde_json::from_str(create["body"].as_str().unwrap()).unwrap();
    let zoom_answer = json!({
        "id": 85746065123u64, "topic": body["topic"], "start_time": body["start_time"], "duration": 30,
        "timezone": "Asia/Kolkata", "password": body["password"],
        "join_url": "https://zoom.us/j/85746065123?pwd=demo", "start_url": "https://zoom.us/s/85746065123?zak=demo"
    });
    let outcome = call(
        "api.interpret",
        json!({
            "operation": "create_meeting", "now": now + 1, "random": "0000000000000000",
            "response": {"status": 201, "headers": {}, "body": zoom_answer.to_string()}
        }),
    );
    let row = call(
        "mapping.activate",
        json!({"row": row, "meeting": outcome["result"], "now": now + 1}),
    );
    show("5. Zoom's 201 interpreted; the row is active", &row);
    println!(
        "\n   patient join link: {}",
        row["join_url"].as_str().unwrap()
    );
    println!(
        "   host start link:   {} (doctor only; refetched when older than 5 min)",
        row["start_url"].as_str().unwrap()
    );

    let again = call(
        "mapping.plan",
        json!({"intent": "ensure", "row": row, "now": now + 5}),
    );
    show(
        "6. Same appointment confirmed again (payment webhook): no second meeting",
        &again,
    );

    let throttled = call(
        "api.interpret",
        json!({
            "operation": "update_meeting", "now": now + 60, "random": "0300000000000000",
            "response": {"status": 429, "headers": {"Retry-After": "2026-01-01T07:00:00Z"},
                "body": "{\"code\":429,\"message\":\"Too many requests\"}"}
        }),
    );
    show(
        "7. Reschedule hits Zoom's rate limit: when to try again",
        &throttled,
    );

    let cancel = call(
        "mapping.plan",
        json!({"intent": "cancel", "row": row, "now": now + 120}),
    );
    show("8. Appointment cancelled: the plan reaches Zoom", &cancel);
    let delete = call(
        "meeting.delete",
        json!({"auth": auth, "meeting_id": cancel["zoom_id"]}),
    );
    show("9. Delete request", &delete);
}
