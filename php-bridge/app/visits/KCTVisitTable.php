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
        $head = [__('Appointment', 'kivicare-telemed-zoom'), __('Patient joined', 'kivicare-telemed-zoom'), __('Patient left', 'kivicare-telemed-zoom'),
            __('Doctor joined', 'kivicare-telemed-zoom'), __('Doctor left', 'kivicare-telemed-zoom'), __('Together', 'kivicare-telemed-zoom'),
            __('Outcome', 'kivicare-telemed-zoom'), __('Patient known by', 'kivicare-telemed-zoom')];
        $rows = array_map(static function ($v) use ($time) {
            $together = isset($v['together_seconds']) ? KCTStatusWords::minutes((int) $v['together_seconds']) : '—';
            return ['#' . (int) $v['appointment_id'], $time($v['patient_joined_at'] ?? null), $time($v['patient_left_at'] ?? null),
                $time($v['doctor_joined_at'] ?? null), $time($v['doctor_left_at'] ?? null), $together,
                KCTStatusWords::outcome($v), (string) ($v['patient_known_by'] ?? '—')];
        }, $visits);
        KCTTable::render($head, $rows, __('No visits yet.', 'kivicare-telemed-zoom'), 'kct-visits');
    }
}
