<?php
// The baseline for cold starts: a PHP process that does nothing.
