//! Who acts: roles and the kind of public entity.
use super::*;

labeled_enum! {
    /// A role a principal may hold (several at once).
    Role {
        /// Manages users and service accounts; everything a planner may.
        Admin = "admin", "Administrator", "Administrador";
        /// Creates and edits plans, categories, actions and objectives.
        Planner = "planner", "Planner", "Planeador";
        /// Reports evidence on the actions assigned to them.
        Responsible = "responsible", "Responsible", "Responsable";
        /// Creates findings, reviews evidence, rates compliance and effectiveness.
        Auditor = "auditor", "Auditor", "Auditor";
        /// Reads only.
        Viewer = "viewer", "Viewer", "Consulta";
    }
}

labeled_enum! {
    /// Territorial order of a public entity.
    EntityOrder {
        /// National order.
        National = "national", "National", "Nacional";
        /// Territorial order (department, municipality, district).
        Territorial = "territorial", "Territorial", "Territorial";
    }
}

/// A set of roles stored as a JSON array.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Roles(pub Vec<Role>);

impl Roles {
    /// True when the set holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }
    /// Sorted, de-duplicated copy.
    pub fn normalized(mut self) -> Self {
        self.0.sort();
        self.0.dedup();
        self
    }
}
