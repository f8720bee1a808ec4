// Calibrates each expert's maskLogitOffset on the validation split: `calibrate_expert_settings.mjs --setting
// offset` (the command the session-12 records and training/GPU.md give). Same options.
process.argv.splice(2, 0, "--setting", "offset");
await import("./calibrate_expert_settings.mjs");
