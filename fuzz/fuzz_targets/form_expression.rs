#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = outpost_fuzz::form_expression(data) {
        panic!("{e}")
    }
});
