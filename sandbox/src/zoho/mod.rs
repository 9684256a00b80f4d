//! Placeholder until the Zoho emulator lands.
use crate::{BuiltZoho, Control, EmulatorContext, Service};

pub fn build(_ctx: &EmulatorContext) -> BuiltZoho {
    let a = Control::new();
    let c = Control::new();
    BuiltZoho {
        accounts: Service {
            router: crate::control::control_routes(a.clone()),
            control: a,
        },
        crm: Service {
            router: crate::control::control_routes(c.clone()),
            control: c,
        },
        credentials: serde_json::json!({}),
    }
}
