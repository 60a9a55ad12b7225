//! What a call record may hold, whoever writes or filters it: today the email rule (a user's address, as
//! `user_email` filters by it and the loader stores it). Uses `time` only.

pub mod email;
