<?php

namespace KCTApp\wasm;

/** The runtime cannot run here; `status` says why and how to fix it. */
class KCTRuntimeException extends KCTCoreException
{
    /** @var KCTRuntimeStatus */
    public $status;

    public function __construct(KCTRuntimeStatus $status)
    {
        $text = $status->message . ($status->fix ? ' Fix: ' . $status->fix : '');
        if ($status->tried) {
            $text .= ' Tried: ' . implode(', ', $status->tried) . '.';
        }
        parent::__construct('runtime_' . $status->state, $text);
        $this->status = $status;
    }
}
