<?php
// The bridge suite needs no WordPress: only PHP, FFI, the runtime library and the .wasm.
require dirname(__DIR__, 2) . '/app/autoload.php';
