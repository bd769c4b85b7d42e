<?php

namespace KCTApp\admin;

/** A plain WordPress admin table of text cells, every cell escaped (a form is a closure that prints its own). */
final class KCTTable
{
    /**
     * @param string[]   $head
     * @param array[]    $rows text cells, or a \Closure that prints a cell's escaped markup
     * @param string     $empty shown in one row when there are no rows
     */
    public static function render(array $head, array $rows, string $empty, string $class = ''): void
    {
        echo '<table class="' . esc_attr(trim('widefat striped ' . $class)) . '"><thead><tr>';
        foreach ($head as $h) {
            echo '<th>' . esc_html($h) . '</th>';
        }
        echo '</tr></thead><tbody>';
        foreach ($rows as $row) {
            echo '<tr>';
            foreach ($row as $cell) {
                echo '<td>';
                // Only a Closure: a string such as a doctor's name is never called.
                $cell instanceof \Closure ? $cell() : print(esc_html((string) $cell));
                echo '</td>';
            }
            echo '</tr>';
        }
        if ($rows === []) {
            echo '<tr><td colspan="' . count($head) . '">' . esc_html($empty) . '</td></tr>';
        }
        echo '</tbody></table>';
    }
}
