//! The lifecycle step machine against a simple model of Zoom, KiviCare and several workers.
//!
//! Workers run the host's loop (read row, step, compare-and-swap write, perform the effect)
//! interleaved one action at a time, over one shared row per appointment, while KiviCare's
//! appointments change under them and Zoom fails at random (500, 429, the daily cap, a
//! create whose answer is lost). Then the queue runs to idle with faults off. Zoom must end
//! with exactly one meeting for each appointment that wants one and none for the others,
//! and never hold two live meetings for one appointment at any moment.
//!
//! Half the steps are given the doctor's token, so their calls come with the request built:
//! the model then answers as Zoom does over HTTP (statuses, headers, bodies; a lost answer is
//! a network error; now and then the token is refused) and the next step reads that answer
//! itself. The other calls take the long way and are answered with interpreted outcomes.

use kc_telemed::abi::dispatch;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const APPOINTMENTS: u64 = 3;

#[derive(Clone, Debug)]
struct Appt {
    exists: bool,
    status: u16,
    doctor: u64,
    patient: u64,
    start: i64,
}

struct Meeting {
    appointment: u64,
    host: String,
    topic: String,
}

#[derive(Default)]
struct Worker {
    appointment: u64,
    intent: Option<&'static str>,
    last: Option<Value>,
    /// A call the worker has decided on but not yet performed.
    pending_call: Option<Value>,
    done: bool,
}

struct World {
    now: i64,
    rng: u64,
    faults: bool,
    appts: BTreeMap<u64, Appt>,
    rows: BTreeMap<u64, Value>,
    meetings: BTreeMap<u64, Meeting>,
    next_meeting: u64,
    queue: BTreeMap<u64, i64>,
    creates: u64,
    announces: u64,
    /// Calls answered over "HTTP" (the step read Zoom's answer itself), and calls the step
    /// asked for again with the token renewed.
    sent: u64,
    renewals: u64,
}

impl World {
    fn rand(&mut self) -> u64 {
        // xorshift64*: deterministic from the proptest seed.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn random_hex(&mut self) -> String {
        (0..40)
            .map(|_| format!("{:02x}", self.rand() as u8))
            .collect()
    }

    /// Meetings the appointment should have once everything settled: one while booked or
    /// checked in, none once cancelled or deleted; pending (2) and checked out (3) keep
    /// whatever they had (a meeting is neither made nor ended for them), so at most one.
    fn wanted(&self, id: u64) -> std::ops::RangeInclusive<usize> {
        match self.appts.get(&id) {
            Some(a) if a.exists && matches!(a.status, 1 | 4) => 1..=1,
            Some(a) if a.exists && matches!(a.status, 2 | 3) => 0..=1,
            _ => 0..=0,
        }
    }

    fn live(&self, id: u64) -> usize {
        self.meetings
            .values()
            .filter(|m| m.appointment == id)
            .count()
    }

    fn appointment_now(&self, id: u64) -> Value {
        match self.appts.get(&id) {
            Some(a) if a.exists => json!({
                "known": true, "exists": true, "status": a.status, "doctor_id": a.doctor,
                "patient_id": a.patient, "start_unix": a.start, "duration_min": 30,
                "timezone": "UTC",
            }),
            _ => json!({"known": true, "exists": false}),
        }
    }

    /// One step of a worker's loop: read, step, write (or lose the write).
    fn step(&mut self, w: &mut Worker) {
        let id = w.appointment;
        let row = self.rows.get(&id).cloned();
        let mut input = json!({
            "appointment_id": id,
            "appointment": self.appointment_now(id),
            "now": self.now,
            "random": self.random_hex(),
        });
        let doctor = self.appts.get(&id).map(|a| a.doctor).unwrap_or(0);
        input["host"] = json!(format!("host{doctor}@example.org"));
        if self.rand() % 2 == 0 {
            input["auth"] = json!({"doctor_id": doctor, "mode": "oauth", "token": {
                "access_token": "model-token", "api_url": "https://api.zoom.us",
                "expires_at": self.now + 3600, "refresh_token": "model-refresh"}});
        }
        if let Some(r) = &row {
            input["row"] = r.clone();
        }
        if let Some(i) = w.intent {
            input["intent"] = json!(i);
        }
        if let Some(l) = w.last.take() {
            input["last"] = l;
        }
        let answer: Value = serde_json::from_str(&dispatch(
            json!({"op": "lifecycle.step", "input": input.clone()})
                .to_string()
                .as_bytes(),
        ))
        .unwrap();
        let s = answer
            .get("ok")
            .unwrap_or_else(|| panic!("step failed: {answer} for {input}"));
        if std::env::var("KCT_MODEL_TRACE").is_ok() {
            let r = |v: &Value| {
                format!(
                    "{}/{}/z{}/u{}",
                    v["status"], v["intent"], v["zoom_id"], v["unconfirmed"]
                )
            };
            eprintln!(
                "t={} appt {id} {:?} intent={:?} row={} last={} -> write={} effect={}",
                self.now,
                self.appts.get(&id).map(|a| (a.exists, a.status, a.doctor)),
                w.intent,
                row.as_ref().map(r).unwrap_or_default(),
                input
                    .get("last")
                    .map(|l| {
                        format!(
                            "{}:{}{}",
                            l["call"]["operation"], l["outcome"]["action"], l["response"]["status"]
                        )
                    })
                    .unwrap_or_default(),
                s.get("write")
                    .filter(|v| !v.is_null())
                    .map(r)
                    .unwrap_or_default(),
                s["effect"]
            );
        }
        if let Some(write) = s.get("write").filter(|v| !v.is_null()) {
            // Compare-and-swap: the version read must still be the stored one.
            let stored = self.rows.get(&id).map(|r| r["version"].as_u64().unwrap());
            let read = row.as_ref().map(|r| r["version"].as_u64().unwrap());
            if stored != read {
                w.last = input.get("last").cloned();
                return; // lost: read again, same intent and last
            }
            let mut write = write.clone();
            write["version"] = json!(read.unwrap_or(0) + 1);
            self.rows.insert(id, write);
        }
        w.intent = None;
        let effect = s["effect"].clone();
        match effect["do"].as_str().unwrap() {
            "call" => w.pending_call = Some(effect),
            "schedule" => {
                self.queue.insert(id, effect["at"].as_i64().unwrap());
                w.done = true;
            }
            "announce" => {
                self.announces += 1;
                self.queue.remove(&id);
                w.done = true;
            }
            "finish" => {
                self.queue.remove(&id);
                w.done = true;
            }
            other => panic!("unknown effect {other}"),
        }
    }

    /// Performs a worker's Zoom call against the model, with random faults: the request the
    /// step built, answered as Zoom answers over HTTP, or the long way.
    fn call(&mut self, w: &mut Worker) {
        let call = w.pending_call.take().unwrap();
        if call.get("request").is_some() {
            self.sent += 1;
            return self.send(w, call);
        }
        if call["renew_token"] == json!(true) {
            self.renewals += 1;
        }
        let op = call["operation"].as_str().unwrap();
        let input = &call["build"]["input"];
        let fault = if self.faults { self.rand() % 100 } else { 99 };
        let outcome = match (op, fault) {
            (_, 0..=9) => {
                json!({"action": "retry_at", "at": self.now + 1, "reason": "server_error"})
            }
            (_, 10..=12) => {
                json!({"action": "retry_at", "at": self.now + 30, "reason": "rate_limited"})
            }
            (_, 13) => {
                json!({"action": "retry_at", "at": (self.now / 86_400 + 1) * 86_400, "reason": "daily_cap"})
            }
            ("create_meeting", f) => {
                let id = self.next_meeting;
                self.next_meeting += 1;
                let reference = input["appointment"]["correlation_ref"].as_str().unwrap();
                self.meetings.insert(
                    id,
                    Meeting {
                        appointment: w.appointment,
                        host: input["host"].as_str().unwrap().into(),
                        topic: format!("Visit {reference}"),
                    },
                );
                self.creates += 1;
                if f < 20 {
                    // Created, but the answer never arrived.
                    json!({"action": "recover_then_retry", "at": self.now + 1, "reason": "network"})
                } else {
                    json!({"action": "done", "result": {"id": id, "join_url": format!("https://z/j/{id}"),
                        "start_url": format!("https://z/s/{id}"), "topic": format!("Visit {reference}"),
                        "start_time": kc_time(input["appointment"]["start_unix"].as_i64().unwrap()),
                        "duration": 30, "timezone": "UTC"}})
                }
            }
            ("delete_meeting" | "update_meeting", _) => {
                let id: u64 = call["meeting_id"].as_str().unwrap().parse().unwrap();
                match (op, self.meetings.contains_key(&id)) {
                    (_, false) => json!({"action": "gone"}),
                    ("delete_meeting", true) => {
                        self.meetings.remove(&id);
                        json!({"action": "done", "result": null})
                    }
                    _ => json!({"action": "done", "result": null}),
                }
            }
            ("list_meetings", _) => {
                let host = input["host"].as_str().unwrap();
                let from: usize = input["next_page_token"]
                    .as_str()
                    .map_or(0, |t| t.parse().unwrap());
                let (page, next) = self.page(host, from);
                json!({"action": "done", "result": {"meetings": page, "next_page_token": next}})
            }
            _ => panic!("unknown call {op}"),
        };
        w.last = Some(json!({"call": call, "outcome": outcome}));
    }

    /// One page of a host's meetings: two a page, the page token is the offset.
    fn page(&self, host: &str, from: usize) -> (Vec<Value>, String) {
        let all: Vec<Value> = self
            .meetings
            .iter()
            .filter(|(_, m)| m.host == host)
            .map(|(id, m)| json!({"id": id, "join_url": format!("https://z/j/{id}"), "topic": m.topic}))
            .collect();
        let next = if from + 2 < all.len() {
            (from + 2).to_string()
        } else {
            String::new()
        };
        (all.into_iter().skip(from).take(2).collect(), next)
    }

    /// Zoom's answer to a request the step built, as it comes over HTTP; the next step reads it.
    fn send(&mut self, w: &mut Worker, call: Value) {
        let req = &call["request"];
        assert!(
            call.get("build").is_none(),
            "a built request needs no build: {call}"
        );
        let (method, url) = (
            req["method"].as_str().unwrap(),
            req["url"].as_str().unwrap(),
        );
        let path = url.strip_prefix("https://api.zoom.us/v2/").unwrap();
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let seg: Vec<&str> = path.split('/').collect();
        let json_answer = |status: u16, body: Value| json!({"status": status, "headers": {"Content-Type": "application/json;charset=UTF-8"}, "body": body.to_string()});
        let fault = if self.faults { self.rand() % 100 } else { 99 };
        let answer = match (method, seg.as_slice(), fault) {
            (_, _, 0..=9) => {
                json!({"response": json_answer(500, json!({"code": 500, "message": "Internal Server Error"}))})
            }
            (_, _, 10..=12) => {
                let mut r = json_answer(429, json!({"code": 429, "message": "Too many requests"}));
                r["headers"]["Retry-After"] = json!("30");
                json!({"response": r})
            }
            (_, _, 13..=15) => {
                json!({"response": json_answer(401, json!({"code": 124, "message": "Invalid access token."}))})
            }
            ("POST", ["users", host, "meetings"], f) => {
                let body: Value = serde_json::from_str(req["body"].as_str().unwrap()).unwrap();
                let id = self.next_meeting;
                self.next_meeting += 1;
                let topic = body["topic"].as_str().unwrap().to_string();
                self.meetings.insert(
                    id,
                    Meeting {
                        appointment: w.appointment,
                        host: host.to_string(),
                        topic: topic.clone(),
                    },
                );
                self.creates += 1;
                if f < 20 {
                    // Created, but the answer never arrived.
                    json!({"network_error": "cURL error 28: Operation timed out"})
                } else {
                    json!({"response": json_answer(201, json!({"id": id, "join_url": format!("https://z/j/{id}"),
                        "start_url": format!("https://z/s/{id}"), "topic": topic, "start_time": body["start_time"],
                        "duration": body["duration"], "timezone": "UTC", "status": "waiting"}))})
                }
            }
            ("GET", ["users", host, "meetings"], _) => {
                let from: usize = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("next_page_token="))
                    .map_or(0, |t| t.parse().unwrap());
                let (page, next) = self.page(host, from);
                json!({"response": json_answer(200, json!({"page_size": 300, "meetings": page, "next_page_token": next}))})
            }
            (m @ ("DELETE" | "PATCH"), ["meetings", id], _) => {
                let id: u64 = id.parse().unwrap();
                if !self.meetings.contains_key(&id) {
                    json!({"response": json_answer(404, json!({"code": 3001, "message": "Meeting does not exist."}))})
                } else {
                    if m == "DELETE" {
                        self.meetings.remove(&id);
                    }
                    json!({"response": {"status": 204, "headers": {}, "body": ""}})
                }
            }
            _ => panic!("unknown request {method} {url}"),
        };
        let mut echo = call;
        echo.as_object_mut().unwrap().remove("request");
        let mut last = json!({"call": echo});
        for (k, v) in answer.as_object().unwrap() {
            last[k] = v.clone();
        }
        w.last = Some(last);
    }

    fn advance(&mut self, w: &mut Worker) {
        if w.pending_call.is_some() {
            self.call(w);
        } else {
            self.step(w);
        }
    }

    fn check_never_two(&self) {
        for id in 1..=APPOINTMENTS {
            assert!(
                self.live(id) <= 1,
                "appointment {id} has {} live meetings",
                self.live(id)
            );
        }
    }
}

fn kc_time(unix: i64) -> String {
    kc_telemed::timefmt::zoom_utc(unix, "t").unwrap()
}

/// What happens to an appointment, and the intent the host then asks for.
fn event(world: &mut World, id: u64, kind: u64) -> &'static str {
    let a = world.appts.entry(id).or_insert(Appt {
        exists: true,
        status: 1,
        doctor: 1,
        patient: 10,
        start: 2_000_000_000,
    });
    if !a.exists {
        // Deleted for good: whatever arrives now is stale.
        return ["ensure", "reschedule", "cancel", "delete", "status_changed"][(kind % 5) as usize];
    }
    match kind % 8 {
        // KiviCare's status route: the step reads the new status and decides.
        0 => {
            a.status = 1;
            "status_changed"
        }
        1 => {
            a.start += 900;
            "reschedule"
        }
        2 => {
            a.status = 0;
            "cancel"
        }
        3 => {
            a.exists = false;
            "delete"
        }
        4 => "regenerate",
        5 => {
            a.doctor = 3 - a.doctor; // 1 <-> 2: another host
            "ensure"
        }
        6 => {
            a.patient += 1;
            "ensure"
        }
        _ => {
            a.status = [4, 2, 3, 0][(kind / 8 % 4) as usize];
            "status_changed"
        }
    }
}

fn run(seed: u64, rounds: usize) -> World {
    let mut world = World {
        now: 1_900_000_000,
        rng: seed | 1,
        faults: true,
        appts: BTreeMap::new(),
        rows: BTreeMap::new(),
        meetings: BTreeMap::new(),
        next_meeting: 1,
        queue: BTreeMap::new(),
        creates: 0,
        announces: 0,
        sent: 0,
        renewals: 0,
    };
    for _ in 0..rounds {
        // One to four workers, each started by an event on a random appointment.
        let n = 1 + world.rand() % 4;
        let mut workers: Vec<Worker> = (0..n)
            .map(|_| {
                let id = 1 + world.rand() % APPOINTMENTS;
                let kind = world.rand();
                let intent = event(&mut world, id, kind);
                Worker {
                    appointment: id,
                    intent: Some(intent),
                    ..Default::default()
                }
            })
            .collect();
        let mut guard = 0;
        while workers.iter().any(|w| !w.done) {
            guard += 1;
            assert!(guard < 10_000, "workers never settle");
            let i = (world.rand() % workers.len() as u64) as usize;
            if workers[i].done {
                continue;
            }
            let mut w = std::mem::take(&mut workers[i]);
            world.advance(&mut w);
            workers[i] = w;
            world.check_never_two();
            world.now += (world.rand() % 2) as i64;
        }
        // Some queued retries come due.
        world.now += (world.rand() % 600) as i64;
        drain(&mut world, false);
    }
    world.faults = false;
    world.now += 3 * 86_400;
    drain(&mut world, true);
    for id in 1..=APPOINTMENTS {
        let live = world.live(id);
        let row = world.rows.get(&id);
        assert!(
            world.wanted(id).contains(&live),
            "appointment {id}: {live} meetings, {:?} row {row:?}",
            world.appts.get(&id)
        );
        if live == 1 {
            let row = row.unwrap();
            assert_eq!(row["status"], "active", "{row}");
            let live = world
                .meetings
                .iter()
                .find(|(_, m)| m.appointment == id)
                .unwrap();
            assert_eq!(row["zoom_id"], json!(live.0.to_string()), "{row}");
            let doctor = world.appts[&id].doctor;
            assert_eq!(live.1.host, format!("host{doctor}@example.org"));
        }
    }
    // Announcements follow new meetings and new patients only.
    assert!(world.announces <= world.creates + 2 * rounds as u64);
    world
}

/// Runs every queued resume that is due (all of them when `all`), until none is left.
fn drain(world: &mut World, all: bool) {
    for _ in 0..500 {
        let due: Vec<u64> = world
            .queue
            .iter()
            .filter(|(_, &at)| all || at <= world.now)
            .map(|(&id, _)| id)
            .collect();
        if due.is_empty() {
            return;
        }
        for id in due {
            if let Some(at) = world.queue.remove(&id) {
                world.now = world.now.max(at);
            }
            let mut w = Worker {
                appointment: id,
                ..Default::default()
            };
            let mut guard = 0;
            while !w.done {
                guard += 1;
                assert!(guard < 1_000, "a resume never settles");
                world.advance(&mut w);
                world.check_never_two();
            }
        }
    }
    panic!("the queue never drains");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn one_meeting_per_appointment_under_faults_and_concurrency(seed in any::<u64>(), rounds in 1usize..25) {
        run(seed, rounds);
    }
}

/// Replays one seed with a trace (KCT_MODEL_TRACE=1 KCT_MODEL_SEED=… KCT_MODEL_ROUNDS=…).
#[test]
fn replay_one_seed() {
    if let (Ok(seed), Ok(rounds)) = (
        std::env::var("KCT_MODEL_SEED"),
        std::env::var("KCT_MODEL_ROUNDS"),
    ) {
        run(seed.parse().unwrap(), rounds.parse().unwrap());
    }
}

#[test]
fn a_long_run_settles_too() {
    let (mut sent, mut renewals) = (0, 0);
    for seed in 1..=20u64 {
        let world = run(seed * 7919, 200);
        sent += world.sent;
        renewals += world.renewals;
    }
    // Both ways were taken: requests the step built and whose answers it read, and calls it
    // asked for again after Zoom refused the token.
    assert!(
        sent > 100 && renewals > 0,
        "sent {sent}, renewals {renewals}"
    );
}
