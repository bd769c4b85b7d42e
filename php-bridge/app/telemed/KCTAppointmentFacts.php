<?php
namespace KCTApp\telemed;

/**
 * What the core needs to know of an appointment, with times in Unix UTC. KiviCare passes a
 * local `start_time` and the site's timezone, which can be wrong (CONTRACT §8.4): when
 * KiviCare's appointment model is there, its UTC columns win.
 */
final class KCTAppointmentFacts
{
    public static function ianaOrUtc(?string $tz): string
    {
        return is_string($tz) && in_array($tz, timezone_identifiers_list(), true) ? $tz : 'UTC';
    }

    /**
     * @param array $data KiviCare's meeting data (appointment_id, doctor_id, patient_id,
     *                    start_time local "Y-m-d H:i:s", duration minutes, timezone)
     */
    public static function fromMeetingData(array $data): array
    {
        $tz = (string) ($data['timezone'] ?? '');
        $zone = in_array($tz, timezone_identifiers_list(), true) ? new \DateTimeZone($tz) : wp_timezone();
        $start = null;
        if (!empty($data['start_time'])) {
            $d = \DateTimeImmutable::createFromFormat('Y-m-d H:i:s', (string) $data['start_time'], $zone);
            $start = $d ? $d->getTimestamp() : null;
        }
        $facts = [
            'appointment_id' => (int) ($data['appointment_id'] ?? 0),
            'doctor_id' => (int) ($data['doctor_id'] ?? 0),
            'patient_id' => isset($data['patient_id']) ? (int) $data['patient_id'] : null,
            'start_unix' => $start ?? time(),
            'duration_min' => max(1, (int) round((float) ($data['duration'] ?? 30))),
            'timezone' => self::ianaOrUtc($zone->getName()),
        ];
        $facts = self::fromKiviCare($facts);
        /**
         * Filters the appointment facts sent to Zoom (times in Unix UTC).
         *
         * @since 4.0.0
         * @param array $facts appointment_id, doctor_id, patient_id, start_unix, duration_min, timezone.
         * @param array $data  what KiviCare passed.
         */
        return apply_filters('kct_zoom_appointment_facts', $facts, $data);
    }

    /** KiviCare's stored UTC start/end and the appointment's own timezone, when available. */
    private static function fromKiviCare(array $facts): array
    {
        if (!$facts['appointment_id'] || !class_exists('App\\models\\KCAppointment')) {
            return $facts;
        }
        $a = \App\models\KCAppointment::find($facts['appointment_id']);
        if (!$a || empty($a->appointmentStartUtc)) {
            return $facts;
        }
        $start = strtotime($a->appointmentStartUtc . ' UTC');
        $end = !empty($a->appointmentEndUtc) ? strtotime($a->appointmentEndUtc . ' UTC') : false;
        if ($start) {
            $facts['start_unix'] = $start;
            if ($end && $end > $start) {
                $facts['duration_min'] = (int) round(($end - $start) / 60);
            }
        }
        if (!empty($a->appointmentTimezone) && in_array($a->appointmentTimezone, timezone_identifiers_list(), true)) {
            $facts['timezone'] = $a->appointmentTimezone;
        }
        return $facts;
    }
}
