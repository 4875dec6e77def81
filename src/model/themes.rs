//! The highlighting themes `[ui] theme` may name (the ones that ship with syntect).

/// The themes bundled with syntect, by the names the config's `[ui] theme` accepts.
pub const THEMES: &[&str] = &[
    "base16-ocean.dark",
    "base16-eighties.dark",
    "base16-mocha.dark",
    "base16-ocean.light",
    "InspiredGitHub",
    "Solarized (dark)",
    "Solarized (light)",
];
