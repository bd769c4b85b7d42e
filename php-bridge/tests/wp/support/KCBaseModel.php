<?php
namespace App\baseClasses;

/**
 * TEST-ONLY stand-in for KiviCare core's `App\baseClasses\KCBaseModel`, just enough to load
 * the addon's model and read the schema it declares (CONTRACT §4). No KiviCare code.
 */
abstract class KCBaseModel
{
    abstract protected static function initSchema(): array;

    public static function schemaForTests(): array
    {
        return static::initSchema();
    }
}
