//! Spanish for the English `errors[].message` texts the services write (`must not be blank`,
//! `must be between 0 and 100` …). Services keep writing one English sentence per rule; a
//! Spanish reader (`Accept-Language: es`) gets it from here. A text with no entry is sent as
//! written, so a new rule without its translation is still understood.

/// Fixed texts.
const EXACT: &[(&str, &str)] = &[
    ("must not be blank", "no puede estar vacío"),
    ("must not contain NUL characters", "no puede contener caracteres NUL"),
    ("must be an e-mail address", "debe ser una dirección de correo electrónico"),
    ("is required", "es obligatorio"),
    ("a finding cannot repeat itself", "un hallazgo no puede repetirse a sí mismo"),
    (
        "a finding with this source, report code and finding code exists",
        "ya existe un hallazgo con esta fuente, código de informe y código de hallazgo",
    ),
    (
        "a plan needs its implementation window to be submitted",
        "un plan necesita sus fechas de ejecución para enviarse",
    ),
    ("a user with this e-mail exists", "ya existe un usuario con este correo"),
    ("an action is met only once it is done", "una acción solo se cumple una vez terminada"),
    ("an organization with this NIT exists", "ya existe una entidad con este NIT"),
    ("another action of this plan has this number", "otra acción de este plan tiene este número"),
    ("another objective of this source has this code", "otro objetivo de esta fuente tiene este código"),
    ("at least one role is required", "se requiere al menos un rol"),
    ("at most 200 alternatives", "como máximo 200 alternativas"),
    ("at most 200 references", "como máximo 200 referencias"),
    ("at most 256 characters", "como máximo 256 caracteres"),
    ("at most 50 links", "como máximo 50 enlaces"),
    ("each element must be a JSON object", "cada elemento debe ser un objeto JSON"),
    ("give the approval act, e.g. Acta No. 05 de 2024", "indique el acta de aprobación, p. ej. Acta No. 05 de 2024"),
    ("give the plan code (query `code`)", "indique el código del plan (parámetro `code`)"),
    ("give the plan title (query `title`)", "indique el título del plan (parámetro `title`)"),
    (
        "must be a NIT: 6 to 15 digits, optionally '-' and its DIAN check digit (e.g. 890000111-9)",
        "debe ser un NIT: de 6 a 15 dígitos, opcionalmente '-' y su dígito de verificación DIAN (p. ej. 890000111-9)",
    ),
    ("must be accepted, rejected or needs_changes", "debe ser accepted, rejected o needs_changes"),
    ("must be between 0 and 10^12", "debe estar entre 0 y 10^12"),
    ("must be greater than 0 and at most 10^12", "debe ser mayor que 0 y como máximo 10^12"),
    ("must have at most two decimals", "debe tener como máximo dos decimales"),
    ("must not be before period_start", "no puede ser anterior a period_start"),
    ("must not be before start_date", "no puede ser anterior a start_date"),
    ("must not be in the future", "no puede estar en el futuro"),
    ("must not contain the e-mail", "no puede contener el correo"),
    ("no such category in this plan", "no existe esa categoría en este plan"),
    ("no such finding in your organization", "no existe ese hallazgo en su entidad"),
    ("no such user in your organization", "no existe ese usuario en su entidad"),
    ("only a done action has a completion date", "solo una acción terminada tiene fecha de terminación"),
    ("only client_credentials is supported", "solo se admite client_credentials"),
    ("say who approved the plan", "indique quién aprobó el plan"),
    ("say why the evidence is not accepted", "explique por qué no se acepta la evidencia"),
    ("send one multipart part named file", "envíe una parte multipart llamada file"),
    ("the current password is wrong", "la contraseña actual no es correcta"),
    ("the file is empty", "el archivo está vacío"),
    ("the first part must be a file named file", "la primera parte debe ser un archivo llamado file"),
    ("the first row must name a category", "la primera fila debe nombrar una categoría"),
    (
        "this organization already has a plan with this code and version",
        "esta entidad ya tiene un plan con este código y versión",
    ),
    ("this password is too common", "esta contraseña es demasiado común"),
];

/// Texts with a number or name inside: (English before, English after, Spanish before, Spanish after).
const AROUND: &[(&str, &str, &str, &str)] = &[
    ("must be at most ", " characters", "debe tener como máximo ", " caracteres"),
    ("at least ", " characters", "como mínimo ", " caracteres"),
    ("must be between ", "", "debe estar entre ", ""),
    ("no such id in your organization: ", "", "no existe ese id en su entidad: ", ""),
    ("expected the columns ", "", "se esperaban las columnas ", ""),
];

/// The Spanish text for `en`, when known.
pub fn spanish(en: &str) -> Option<String> {
    if let Some((_, es)) = EXACT.iter().find(|(e, _)| *e == en) {
        return Some((*es).to_string());
    }
    for (before, after, es_before, es_after) in AROUND {
        if let Some(middle) = en.strip_prefix(before).and_then(|rest| rest.strip_suffix(after)) {
            let middle =
                if *before == "must be between " { middle.replace(" and ", " y ") } else { middle.to_string() };
            return Some(format!("{es_before}{middle}{es_after}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::spanish;

    #[test]
    fn known_texts_and_texts_with_numbers_have_spanish() {
        assert_eq!(spanish("must not be blank").as_deref(), Some("no puede estar vacío"));
        assert_eq!(spanish("must be at most 300 characters").as_deref(), Some("debe tener como máximo 300 caracteres"));
        assert_eq!(spanish("must be between 0 and 100").as_deref(), Some("debe estar entre 0 y 100"));
        assert_eq!(spanish("something new"), None);
    }
}
