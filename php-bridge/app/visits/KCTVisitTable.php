<?php

namespace KCTApp\visits;

use KCTApp\admin\KCTStatusWords;
use KCTApp\admin\KCTTable;

/** A table of visits (the status screen, the doctor's page): who joined and left when, the length, the outcome. */
final class KCTVisitTable
{
    /** @param array[] $visits from KCTVisits::recent() */
    public static function render(array $visits): void
    {
        $time = static function ($t): string {
            return $t ? KCTStatusWords::siteTime((int) $t) : '—';
        };
        $outcomes = [
            'checked_in' => __('Checked in', 'kivicare-telemed-zoom'),
            'checked_out' => __('Checked out', 'kivicare-telemed-zoom'),
            'no_show' => __('No-show', 'kivicare-telemed-zoom'),
            // The visit asked KiviCare for the status and KiviCare refused it: the fix is by hand.
            'checkin_refused' => __('Attended; KiviCare refused the check-in: check the patient in by hand', 'kivicare-telemed-zoom'),
            'checkout_refused' => __('Attended; KiviCare refused the check-out: check the patient out by hand', 'kivicare-telemed-zoom'),
        ];
        $head = [__('Appointment', 'kivicare-telemed-zoom'), __('Patient joined', 'kivicare-telemed-zoom'), __('Patient left', 'kivicare-telemed-zoom'),
            __('Doctor joined', 'kivicare-telemed-zoom'), __('Doctor left', 'kivicare-telemed-zoom'), __('Together', 'kivicare-telemed-zoom'),
            __('Outcome', 'kivicare-telemed-zoom'), __('Patient known by', 'kivicare-telemed-zoom')];
        $rows = array_map(static function ($v) use ($time, $outcomes) {
            $together = isset($v['together_seconds']) ? sprintf(
                /* translators: %d: minutes */
                _n('%d minute', '%d minutes', intdiv((int) $v['together_seconds'], 60), 'kivicare-telemed-zoom'),
                intdiv((int) $v['together_seconds'], 60)
            ) : '—';
            return ['#' . (int) $v['appointment_id'], $time($v['patient_joined_at'] ?? null), $time($v['patient_left_at'] ?? null),
                $time($v['doctor_joined_at'] ?? null), $time($v['doctor_left_at'] ?? null), $together,
                $outcomes[$v['outcome'] ?? ''] ?? (!empty($v['waiting_since']) ? __('Waiting', 'kivicare-telemed-zoom') : '—'),
                (string) ($v['patient_known_by'] ?? '—')];
        }, $visits);
        KCTTable::render($head, $rows, __('No visits yet.', 'kivicare-telemed-zoom'), 'kct-visits');
    }
}
