"""Admin windows: policy packs (load, activate, roll back, priority, diff)."""
