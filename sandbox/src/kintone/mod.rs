//! Placeholder until the kintone emulator lands.
use crate::{Built, Control, EmulatorContext, Service};

pub fn build(_ctx: &EmulatorContext) -> Built {
    let control = Control::new();
    Built {
        service: Service {
            router: crate::control::control_routes(control.clone()),
            control,
        },
        credentials: serde_json::json!({}),
    }
}
