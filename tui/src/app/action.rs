//! What input asks for (`Action`) and what the worker is told to do (`Command`).

use crate::engine::LoadRequest;

/// One thing the user asked for. Produced by `keys::map_key`, consumed by `App::update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Load the module with the current memsize and mode (after confirmation).
    Load,
    /// Unload the module.
    Unload,
    /// Unload, then load with the current memsize (after confirmation).
    Reload,
    /// Raise the memsize by one step (`big`: a large step).
    StepUp {
        big: bool,
    },
    /// Lower the memsize by one step (`big`: a large step).
    StepDown {
        big: bool,
    },
    /// A character typed into the memsize field (digits, then K/M/G/T, i, B).
    Digit(char),
    /// Delete the last typed character.
    Backspace,
    /// Enter: accept the typed memsize.
    SubmitMemsize,
    /// Find the largest memsize that loads (after confirmation).
    Probe,
    /// Switch safe/unsafe mode for the next load (unsafe asks first).
    ToggleMode,
    /// Stop/restart the charts scrolling (sampling goes on).
    Freeze,
    /// Cycle the chart window: 30 s, 2 min, 10 min, all.
    CycleWindow,
    /// Pick the next allocator the module offers for the next load (`alloc=`).
    CycleAlloc,
    /// Show/hide the buddyinfo pane (free blocks per order and zone).
    ToggleBuddy,
    /// Show/hide the areas pane (who holds the vmalloc address space).
    ToggleAreas,
    /// The areas pane's next order: size, count, caller.
    CycleAreasSort,
    ToggleHelp,
    /// Open/close the whole diagnosis of the last failure (the banner shows its start).
    ToggleWhy,
    /// Save the screen as it is now, as SVG and PNG (in the screenshot folder).
    Screenshot,
    /// Quit (asks whether to unload when the module is loaded).
    Quit,
    /// Answer to the open dialog: y (true) or n (false).
    Confirm(bool),
    /// Esc: close the dialog / help / typing, or dismiss the failure banner.
    Cancel,
    /// The terminal changed size (redraw only).
    Resize,
    /// Lesson: run the step's action, or go on to the next page (`n`, Space).
    LessonNext,
    /// Lesson: show the page before (`b`; nothing is rerun).
    LessonBack,
}

/// What the worker thread (owner of the `Engine`) must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Load(LoadRequest),
    /// Unload, then load with this request.
    Reload(LoadRequest),
    Unload,
    /// Search the largest memsize that loads, in this mode.
    Probe {
        oom_safe: bool,
    },
    /// A lesson step's action (not a wait or pause: the app times those); the worker answers
    /// with `Msg::LessonDone`.
    Lesson(crate::lesson::Action),
    /// Stop the worker, unloading the module first when `unload` (and it is loaded).
    Quit {
        unload: bool,
    },
    /// Stop the loader running now (at once, not through the worker's queue), then unload
    /// whatever got loaded and stop the worker.
    CancelAndQuit,
}
