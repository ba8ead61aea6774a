//! The pages of the demo workspace: agenda, homework, grades, messages, an exam, a file.
//!
//! Bodies are small but look like a French ENT on the first day of remote school (Tuesday
//! 6 April 2021), so that a scenario's checks and captures have something real to bite on.
//! They are rendered once at start into shared `Bytes`, a few variants per page picked by
//! user, so serving a page costs no serialisation and no allocation of the body.

use bytes::Bytes;
use serde_json::{json, Value};

/// Variants per page; users are spread over them by a stable hash of their name.
const VARIANTS: usize = 8;

const DAY: &str = "2021-04-06";

const SUBJECTS: [(&str, &str); 8] = [
    ("Mathématiques", "Mme Martin"),
    ("Français", "M. Bernard"),
    ("Histoire-Géographie", "Mme Petit"),
    ("SVT", "M. Durand"),
    ("Anglais", "Mrs Leroy"),
    ("Physique-Chimie", "M. Moreau"),
    ("EPS", "Mme Simon"),
    ("Arts plastiques", "M. Laurent"),
];

const HOMEWORK: [&str; 8] = [
    "Exercices 12 à 15 page 148 (équations du premier degré)",
    "Lire le chapitre 3 de « Vendredi ou la vie sauvage »",
    "Réviser la carte des reliefs de France pour l'interrogation",
    "Schéma de la photosynthèse à compléter sur la fiche",
    "Learn the irregular verbs list (be → drink)",
    "Compte rendu du TP sur les circuits en série",
    "Préparer un échauffement de 10 minutes à présenter",
    "Terminer la perspective du dessin commencé en classe",
];

const MESSAGES: [(&str, &str); 4] = [
    (
        "Cours à distance à partir de demain",
        "Bonjour à tous, les cours auront lieu en visio selon l'emploi du temps habituel.",
    ),
    ("Devoir maison", "Le devoir est à rendre sur l'ENT avant vendredi 18h, au format PDF."),
    (
        "Connexion à l'ENT",
        "En cas de difficulté de connexion, réessayez plus tard : la plateforme est très sollicitée.",
    ),
    ("Conseil de classe", "Le conseil de classe du troisième trimestre est avancé au 15 juin."),
];

/// Every page body, rendered once.
pub(crate) struct Content {
    agenda: Vec<Bytes>,
    homework: Vec<Bytes>,
    grades: Vec<Bytes>,
    messages: Vec<Bytes>,
    pub(crate) exam: Bytes,
    pub(crate) file: Bytes,
}

impl Content {
    /// Renders the pages; `file_size` bytes are allocated once for the shared file body.
    pub(crate) fn new(file_size: usize) -> Content {
        Content {
            agenda: variants(agenda),
            homework: variants(homework),
            grades: variants(grades),
            messages: variants(messages),
            exam: render(&exam()),
            file: file(file_size),
        }
    }

    pub(crate) fn agenda(&self, user: &str) -> Bytes {
        pick(&self.agenda, user)
    }

    pub(crate) fn homework(&self, user: &str) -> Bytes {
        pick(&self.homework, user)
    }

    pub(crate) fn grades(&self, user: &str) -> Bytes {
        pick(&self.grades, user)
    }

    pub(crate) fn messages(&self, user: &str) -> Bytes {
        pick(&self.messages, user)
    }
}

/// A stable choice per user (FNV-1a of the name), so that a user sees the same agenda on
/// every request and across runs.
fn pick(pages: &[Bytes], user: &str) -> Bytes {
    let hash = user
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    pages[(hash % pages.len() as u64) as usize].clone()
}

fn variants(page: fn(usize) -> Value) -> Vec<Bytes> {
    (0..VARIANTS).map(|v| render(&page(v))).collect()
}

fn render(value: &Value) -> Bytes {
    // Serialising a `Value` built here cannot fail: keys are strings, numbers are finite.
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

fn subject(v: usize, i: usize) -> (&'static str, &'static str) {
    SUBJECTS[(v + i * 3) % SUBJECTS.len()]
}

fn agenda(v: usize) -> Value {
    let hours = ["08:00", "09:00", "10:15", "11:15", "13:30", "14:30"];
    let entries: Vec<Value> = hours
        .windows(2)
        .enumerate()
        .map(|(i, slot)| {
            let (subject, teacher) = subject(v, i);
            json!({
                "start": format!("{DAY}T{}:00+02:00", slot[0]),
                "end": format!("{DAY}T{}:00+02:00", slot[1]),
                "subject": subject,
                "teacher": teacher,
                "room": "Classe virtuelle",
                "remote": true,
            })
        })
        .collect();
    json!({ "date": DAY, "class": format!("4e{}", v % 4 + 1), "entries": entries })
}

fn homework(v: usize) -> Value {
    let items: Vec<Value> = (0..3)
        .map(|i| {
            let index = (v + i * 3) % SUBJECTS.len();
            json!({
                "id": 4100 + v * 10 + i,
                "subject": SUBJECTS[index].0,
                "given": DAY,
                "due": format!("2021-04-{:02}", 7 + (v + i) % 4),
                "title": HOMEWORK[index],
                "done": false,
            })
        })
        .collect();
    json!({ "week": "2021-W14", "items": items })
}

fn grades(v: usize) -> Value {
    let marks: Vec<(f64, u32)> =
        (0..4).map(|i| (8.0 + ((v * 7 + i * 5) % 25) as f64 / 2.0, 1 + (i as u32 % 2))).collect();
    let weight: u32 = marks.iter().map(|(_, c)| c).sum();
    let total: f64 = marks.iter().map(|(m, c)| m * f64::from(*c)).sum();
    let grades: Vec<Value> = marks
        .iter()
        .enumerate()
        .map(|(i, (mark, coefficient))| {
            json!({
                "subject": subject(v, i).0,
                "value": mark,
                "out_of": 20,
                "coefficient": coefficient,
                "date": format!("2021-03-{:02}", 15 + i * 4),
            })
        })
        .collect();
    let average = (total / f64::from(weight) * 100.0).round() / 100.0;
    json!({ "period": "Trimestre 3", "grades": grades, "average": average })
}

fn messages(v: usize) -> Value {
    let messages: Vec<Value> = (0..2)
        .map(|i| {
            let (title, preview) = MESSAGES[(v + i) % MESSAGES.len()];
            json!({
                "id": 90_000 + v * 10 + i,
                "from": subject(v, i).1,
                "subject": title,
                "received": format!("{DAY}T07:{:02}:00+02:00", 10 + i * 17),
                "preview": preview,
                "read": i > 0,
            })
        })
        .collect();
    json!({ "unread": 1, "messages": messages })
}

fn exam() -> Value {
    let questions: Vec<Value> =
        (1..=5).map(|i| json!({ "id": i, "kind": "qcm", "choices": ["A", "B", "C", "D"] })).collect();
    json!({
        "exam": "Épreuve blanche de mathématiques",
        "duration_minutes": 120,
        "questions": questions,
    })
}

/// A file body that starts like a PDF, padded to the configured size.
fn file(size: usize) -> Bytes {
    let mut body = vec![b' '; size];
    let header = b"%PDF-1.4\n% schoolday demo file\n";
    let n = header.len().min(size);
    body[..n].copy_from_slice(&header[..n]);
    Bytes::from(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_json_and_stable_per_user() {
        let content = Content::new(10);
        for page in [
            content.agenda("eleve.1"),
            content.homework("eleve.1"),
            content.grades("eleve.1"),
            content.messages("eleve.1"),
            content.exam.clone(),
        ] {
            assert!(serde_json::from_slice::<Value>(&page).is_ok());
        }
        assert_eq!(content.homework("eleve.1"), content.homework("eleve.1"));
        let homework: Value = serde_json::from_slice(&content.homework("eleve.2")).unwrap();
        assert_eq!(homework["items"].as_array().map(Vec::len), Some(3));
        assert!(homework["items"][0]["subject"].is_string());
    }

    #[test]
    fn file_has_exactly_the_configured_size() {
        assert_eq!(Content::new(0).file.len(), 0);
        assert_eq!(Content::new(5).file.len(), 5);
        assert_eq!(Content::new(64 * 1024).file.len(), 64 * 1024);
    }
}
