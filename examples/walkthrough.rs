//! `make walkthrough`: one telemedicine appointment's life through the core alone, driven
//! through the same JSON operations the PHP host calls (`lifecycle.step` above all), with
//! Zoom's answers played back. Every request printed is exactly what the host would send;
//! every row printed is what it would write. `make test` runs it, so it stays true.

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

/// Asserts what the walk relies on, so a change to the core that breaks the story fails
/// `make test` instead of the walk printing nonsense.
fn expect(what: &str, got: &Value, want: &str) {
    assert_eq!(got.as_str(), Some(want), "{what}: {got}");
}

/// What the next step reads of a call, as the host hands it back: never the request (it
/// carries the token) nor how to build it.
fn call_echo(effect: &Value) -> Value {
    let mut echo = effect.clone();
    for k in ["request", "build", "renew_token"] {
        echo.as_object_mut().unwrap().remove(k);
    }
    echo
}

fn main() {
    let now = 1_767_250_000; // 2026-01-01 06:46:40 UTC
    let random = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0011";
    let token = json!({"access_token": "demo-access-token", "api_url": "https://api.zoom.us",
        "expires_at": now + 3600, "refresh_token": "demo-refresh-token"});
    // As KiviCare has it: booked for 2026-01-02 09:00 UTC, 14:30 in Kolkata.
    let appointment = json!({"exists": true, "known": true, "doctor_id": 7, "patient_id": 9,
        "start_unix": 1_767_344_400, "duration_min": 30, "timezone": "Asia/Kolkata", "status": 1});
    let step = |extra: Value, at: i64| {
        let mut input = json!({"appointment_id": 42, "appointment": appointment, "host": "me",
            "auth": {"doctor_id": 7, "mode": "oauth", "token": token},
            "caller_mails": true, "now": at, "random": random});
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        call("lifecycle.step", input)
    };

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

    let first = step(json!({"intent": "ensure"}), now);
    expect("the first step calls Zoom", &first["effect"]["do"], "call");
    show(
        "2. Appointment 42 booked: the row to insert first (pending, claimed, with the reference \
         Zoom's topic will carry), then the create request, built at once with the doctor's token \
         (09:00 UTC is 14:30 in Kolkata; start_time stays UTC)",
        &first,
    );

    let body: Value =
        serde_json::from_str(first["effect"]["request"]["body"].as_str().unwrap()).unwrap();
    let zoom_answer = json!({
        "id": 85746065123u64, "topic": body["topic"], "start_time": body["start_time"], "duration": 30,
        "timezone": "Asia/Kolkata", "password": body["password"],
        "join_url": "https://zoom.us/j/85746065123?pwd=demo", "start_url": "https://zoom.us/s/85746065123?zak=demo"
    });
    let echo = call_echo(&first["effect"]);
    let answered = step(
        json!({"row": first["write"], "last": {"call": echo,
            "response": {"status": 201, "headers": {}, "body": zoom_answer.to_string()}}}),
        now + 1,
    );
    let row = answered["write"].clone();
    expect("Zoom's 201 makes the row active", &row["status"], "active");
    show(
        "3. Zoom answered 201: the second step reads it itself; the row to write is active",
        &answered,
    );
    println!(
        "\n   patient join link: {}",
        row["join_url"].as_str().unwrap()
    );
    println!(
        "   host start link:   {} (doctor only; fetched again when older than 5 min)",
        row["start_url"].as_str().unwrap()
    );

    let again = step(json!({"intent": "ensure", "row": row}), now + 5);
    expect("nothing is owed", &again["effect"]["do"], "finish");
    assert_eq!(
        again["write"]["zoom_id"], row["zoom_id"],
        "the same meeting"
    );
    show(
        "4. Same appointment confirmed again (payment webhook): no Zoom call, no second meeting",
        &again["effect"],
    );

    let link = call("mapping.start_link", json!({"row": row, "now": now + 900}));
    expect("an old start link is fetched", &link["action"], "fetch");
    let stored = call(
        "mapping.start_link",
        json!({"row": row, "now": now + 901,
            "fetched_start_url": "https://zoom.us/s/85746065123?zak=fresh"}),
    );
    expect("a fetched link is stored", &stored["action"], "store");
    show(
        "5. The doctor opens Start fifteen minutes later: the link is fetched again, and the row keeps it",
        &stored,
    );

    let throttled = call(
        "api.interpret",
        json!({
            "operation": "update_meeting", "now": now + 60, "random": "0300000000000000",
            "response": {"status": 429, "headers": {"Retry-After": "2026-01-01T07:00:00Z"},
                "body": "{\"code\":429,\"message\":\"Too many requests\"}"}
        }),
    );
    expect("a 429 is retried later", &throttled["action"], "retry_at");
    show(
        "6. A reschedule hits Zoom's rate limit: when to try again",
        &throttled,
    );

    let cancelled = json!({"appointment": {"exists": true, "known": true, "doctor_id": 7,
        "patient_id": 9, "start_unix": 1_767_344_400, "duration_min": 30,
        "timezone": "Asia/Kolkata", "status": 0}});
    let mut cancel_in = cancelled.clone();
    cancel_in["intent"] = json!("cancel");
    cancel_in["row"] = stored["write"].clone();
    let cancel = step(cancel_in, now + 120);
    expect(
        "a cancel deletes at Zoom",
        &cancel["effect"]["operation"],
        "delete_meeting",
    );
    show(
        "7. Appointment cancelled: the links go now, and the meeting is deleted at Zoom",
        &cancel,
    );
    let mut done_in = cancelled;
    done_in["row"] = cancel["write"].clone();
    done_in["last"] = json!({"call": call_echo(&cancel["effect"]),
        "outcome": call("api.interpret", json!({"operation": "delete_meeting", "now": now + 121,
            "random": "0000000000000000", "response": {"status": 204, "headers": {}, "body": ""}}))});
    let done = step(done_in, now + 121);
    expect(
        "the delete settles the row",
        &done["effect"]["do"],
        "finish",
    );
    show("8. Zoom answered 204: the row is settled", &done["write"]);
}
