//! Typing of raw cells into values per the field types of bundle-v1.md.
