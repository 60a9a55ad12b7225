//! What a call record may hold, whoever writes or filters it: the record rule every writer keeps
//! (`record`), and the email rule (`email`: a user's address, as `user_email` filters by it and the loader
//! stores it). Uses `time` only.

pub mod email;
pub mod record;
