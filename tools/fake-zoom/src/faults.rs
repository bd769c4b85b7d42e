//! Faults injected on request (`POST /__admin/fault`): which request takes one, and the
//! rate-limit answers Zoom gives (per second, and the daily cap, with `Retry-After` as seconds,
//! a date or absent).

use super::*;

impl FakeZoom {
    pub(crate) fn take_fault(&self, req: &Request) -> Option<Fault> {
        let mut w = self.world();
        let i = w
            .faults
            .iter()
            .position(|f| f.remaining > 0 && req.path.starts_with(&f.path_prefix))?;
        w.faults[i].remaining -= 1;
        let f = w.faults[i].clone();
        w.faults.retain(|f| f.remaining > 0);
        Some(f)
    }

    pub(crate) fn rate_limited(&self, f: &Fault, daily: bool) -> Reply {
        let message = if daily {
            "You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request."
        } else {
            "You have reached the maximum per-second rate limit for this API. Try again later."
        };
        let r = zoom_error(429, 429, message);
        let now = self.now();
        match f.retry_after.as_str() {
            "absent" => r,
            "date" if daily => {
                r.with_header("Retry-After", &utc((now.div_euclid(86_400) + 1) * 86_400))
            }
            "date" => r.with_header("Retry-After", &utc(now + 2)),
            secs => r.with_header("Retry-After", if secs.is_empty() { "1" } else { secs }),
        }
    }
}
