<?php

namespace KCTApp\wasm;

/**
 * A core error answer (or a failure to reach the core) as an exception: a stable code, a
 * human message and, where it applies, the input field. The WordPress layer maps it to
 * WP_Error. Messages never carry secrets: the core redacts values from its errors.
 */
class KCTCoreException extends \RuntimeException
{
    /** @var string */
    public $errorCode;
    /** @var string|null */
    public $field;

    public function __construct(string $code, string $message, ?string $field = null)
    {
        parent::__construct($message);
        $this->errorCode = $code;
        $this->field = $field;
    }

    public static function fromAnswer(array $error): self
    {
        return new self(
            (string) ($error['code'] ?? 'core_error'),
            (string) ($error['message'] ?? 'the core reported an error'),
            isset($error['field']) ? (string) $error['field'] : null
        );
    }
}
