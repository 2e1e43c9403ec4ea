//! Fixed vocabularies of the synthetic network: procedure codes, contrast agents, places, names,
//! cancellation reasons and reaction wording.

/// A procedure code the generated exams use, with its reference-table row.
#[derive(Debug)]
pub(crate) struct Code {
    pub(crate) cpt: &'static str,
    pub(crate) modality: Modality,
    pub(crate) contrast: bool,
    /// Physician supervision indicator (`02` contrast, `01` non-contrast).
    pub(crate) indicator: &'static str,
    pub(crate) global_days: &'static str,
    pub(crate) description: &'static str,
    /// Relative frequency among scheduled exams.
    pub(crate) weight: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Modality {
    Ct,
    Mr,
}

impl Modality {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Modality::Ct => "CT",
            Modality::Mr => "MR",
        }
    }
}

const fn code(
    cpt: &'static str,
    modality: Modality,
    contrast: bool,
    description: &'static str,
    weight: f64,
) -> Code {
    Code {
        cpt,
        modality,
        contrast,
        indicator: if contrast { "02" } else { "01" },
        global_days: "XXX",
        description,
        weight,
    }
}

/// Weights give about 45% contrast exams; the last code is the rare 010-global procedure.
pub(crate) const CODES: &[Code] = &[
    code(
        "70450",
        Modality::Ct,
        false,
        "CT head or brain without contrast material",
        14.0,
    ),
    code(
        "70460",
        Modality::Ct,
        true,
        "CT head or brain with contrast material",
        3.0,
    ),
    code(
        "70470",
        Modality::Ct,
        true,
        "CT head or brain without contrast material followed by contrast material",
        3.0,
    ),
    code(
        "71250",
        Modality::Ct,
        false,
        "CT thorax without contrast material",
        10.0,
    ),
    code(
        "71260",
        Modality::Ct,
        true,
        "CT thorax with contrast material",
        6.0,
    ),
    code(
        "74150",
        Modality::Ct,
        false,
        "CT abdomen without contrast material",
        3.0,
    ),
    code(
        "74160",
        Modality::Ct,
        true,
        "CT abdomen with contrast material",
        3.0,
    ),
    code(
        "74176",
        Modality::Ct,
        false,
        "CT abdomen and pelvis without contrast material",
        8.0,
    ),
    code(
        "74177",
        Modality::Ct,
        true,
        "CT abdomen and pelvis with contrast material",
        12.0,
    ),
    code(
        "70551",
        Modality::Mr,
        false,
        "MRI brain without contrast material",
        8.0,
    ),
    code(
        "70552",
        Modality::Mr,
        true,
        "MRI brain with contrast material",
        2.0,
    ),
    code(
        "70553",
        Modality::Mr,
        true,
        "MRI brain without contrast material followed by contrast material",
        8.0,
    ),
    code(
        "72148",
        Modality::Mr,
        false,
        "MRI lumbar spine without contrast material",
        10.0,
    ),
    code(
        "72149",
        Modality::Mr,
        true,
        "MRI lumbar spine with contrast material",
        1.5,
    ),
    code(
        "74183",
        Modality::Mr,
        true,
        "MRI abdomen without contrast material followed by contrast material",
        4.0,
    ),
    Code {
        cpt: "36000",
        modality: Modality::Ct,
        contrast: true,
        indicator: "02",
        global_days: "010",
        description: "Introduction of needle or intracatheter into a vein (synthetic 010 global period)",
        weight: 0.15,
    },
];

/// Index of the 010-global code in [`CODES`].
pub(crate) const GLOBAL_010: usize = CODES.len() - 1;

/// Real codes left out of the reference table (SUP-001 defects), per modality.
pub(crate) const UNLISTED_CT: &[&str] = &["74178", "70496", "71275"];
pub(crate) const UNLISTED_MR: &[&str] = &["72158", "70544", "73721"];

#[derive(Debug)]
pub(crate) struct Agent {
    pub(crate) name: &'static str,
    pub(crate) class: &'static str,
    pub(crate) lot_prefix: &'static str,
    /// Dose range in tenths of a millilitre.
    pub(crate) dose_tenths: (i64, i64),
}

pub(crate) const IODINATED: &[Agent] = &[
    Agent {
        name: "iohexol",
        class: "iodinated",
        lot_prefix: "OMN",
        dose_tenths: (500, 1200),
    },
    Agent {
        name: "iopamidol",
        class: "iodinated",
        lot_prefix: "ISO",
        dose_tenths: (500, 1200),
    },
    Agent {
        name: "iodixanol",
        class: "iodinated",
        lot_prefix: "VIS",
        dose_tenths: (500, 1000),
    },
];

pub(crate) const GADOLINIUM: &[Agent] = &[
    Agent {
        name: "gadobutrol",
        class: "gadolinium",
        lot_prefix: "GBT",
        dose_tenths: (50, 150),
    },
    Agent {
        name: "gadoterate meglumine",
        class: "gadolinium",
        lot_prefix: "GDT",
        dose_tenths: (100, 200),
    },
    Agent {
        name: "gadopiclenol",
        class: "gadolinium",
        lot_prefix: "GPC",
        dose_tenths: (50, 120),
    },
];

/// Patient- and provider-side cancellation codes, with relative weights.
pub(crate) const CANCEL_REASONS: &[(&str, f64)] = &[
    ("pat-crs", 40.0),
    ("pat-ill", 14.0),
    ("pat-trn", 8.0),
    ("ins-auth", 14.0),
    ("prv-ord", 16.0),
    ("equip-dn", 8.0),
];

/// Reasons that mean no supervision coverage (BEN-005 after go-live).
pub(crate) const COVERAGE_REASONS: &[&str] = &["coverage_gap", "supervisor_unavailable"];

/// A US state the network can have sites in, with its zone and towns for site names.
#[derive(Debug)]
pub(crate) struct Place {
    pub(crate) state: &'static str,
    pub(crate) zone: &'static str,
    pub(crate) towns: &'static [&'static str],
}

/// Ordered so that the first few sites already span several zones.
pub(crate) const PLACES: &[Place] = &[
    Place {
        state: "IL",
        zone: "America/Chicago",
        towns: &["Evanston", "Naperville", "Joliet", "Peoria", "Aurora"],
    },
    Place {
        state: "AZ",
        zone: "America/Phoenix",
        towns: &["Tempe", "Mesa", "Chandler"],
    },
    Place {
        state: "NY",
        zone: "America/New_York",
        towns: &["Albany", "Buffalo", "Ithaca"],
    },
    Place {
        state: "CA",
        zone: "America/Los_Angeles",
        towns: &["Fresno", "Pasadena", "Riverside"],
    },
    Place {
        state: "CO",
        zone: "America/Denver",
        towns: &["Boulder", "Pueblo", "Greeley"],
    },
    Place {
        state: "WI",
        zone: "America/Chicago",
        towns: &["Kenosha", "Racine", "Madison"],
    },
    Place {
        state: "OH",
        zone: "America/New_York",
        towns: &["Dayton", "Akron", "Toledo"],
    },
    Place {
        state: "TX",
        zone: "America/Chicago",
        towns: &["Austin", "Plano", "Waco"],
    },
    Place {
        state: "UT",
        zone: "America/Denver",
        towns: &["Provo", "Ogden"],
    },
    Place {
        state: "WA",
        zone: "America/Los_Angeles",
        towns: &["Spokane", "Tacoma"],
    },
    Place {
        state: "MN",
        zone: "America/Chicago",
        towns: &["Rochester", "Duluth"],
    },
    Place {
        state: "GA",
        zone: "America/New_York",
        towns: &["Macon", "Savannah"],
    },
    Place {
        state: "MO",
        zone: "America/Chicago",
        towns: &["Springfield", "Columbia"],
    },
];

/// States where no site is: the locum radiologist is licensed only here (SUP-007 defects).
pub(crate) const ELSEWHERE: &[&str] = &["IA", "NE"];

pub(crate) const SITE_KINDS: &[&str] = &[
    "Imaging Center",
    "Diagnostic Imaging",
    "MRI and CT",
    "Outpatient Imaging",
    "Radiology Associates",
];

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Ada", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara",
    "Luis", "Maya", "Nils", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
    "Wes", "Xena", "Yusuf", "Zoe",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Abbott",
    "Baptiste",
    "Chen",
    "Dawson",
    "Eriksen",
    "Fischer",
    "Garza",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Underwood",
    "Valdez",
    "Whitfield",
    "Yilmaz",
    "Zimmerman",
];

pub(crate) const SYMPTOMS_ALLERGIC: [&[&str]; 3] = [
    &[
        "limited urticaria",
        "pruritus",
        "nasal congestion and sneezing",
        "itchy scratchy throat",
    ],
    &[
        "diffuse urticaria",
        "facial edema without dyspnea",
        "throat tightness without dyspnea",
        "wheezing with mild hypoxia",
    ],
    &[
        "laryngeal edema with stridor",
        "bronchospasm with hypoxia",
        "diffuse erythema with hypotension",
        "anaphylactic shock",
    ],
];

pub(crate) const SYMPTOMS_PHYSIOLOGIC: [&[&str]; 3] = [
    &[
        "transient flushing",
        "limited nausea",
        "headache",
        "vasovagal episode resolved on its own",
    ],
    &[
        "protracted nausea and vomiting",
        "isolated chest pain",
        "vasovagal episode responding to treatment",
    ],
    &[
        "arrhythmia",
        "seizure",
        "vasovagal episode resistant to treatment",
    ],
];

pub(crate) const TREATMENTS: [&[&str]; 3] = [
    &["observation only", "observation; oral fluids"],
    &[
        "diphenhydramine 50 mg IV; observation 60 min",
        "albuterol 2 puffs inhaled; oxygen 2 L/min",
        "ondansetron 4 mg IV; IV fluids 500 mL",
    ],
    &[
        "epinephrine 0.3 mg IM; oxygen 10 L/min; IV fluids 1 L; EMS activated",
        "oxygen 10 L/min; IV fluids 1 L; atropine 0.6 mg IV; EMS activated",
    ],
];
