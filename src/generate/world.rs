//! The synthetic network: facilities, practitioners and the daily roster of who supervises where.
//!
//! The roster is a pure function of the day, so the coverage rows and the exams of a month agree
//! without sharing state: facility `f` is covered virtually on day `d` by `panel[d % 3]` (its own
//! coverage rows) and by the hub radiologist `hubs[d % hubs.len()]` (rows for facility `*`).

use chrono_tz::Tz;

use super::catalog::{ELSEWHERE, FIRST_NAMES, LAST_NAMES, PLACES, SITE_KINDS};
use super::rng::{Rng, cumulative};
use super::stamp::ZoneDays;

#[derive(Debug)]
pub(crate) struct Facility {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) setting: &'static str,
    pub(crate) state: &'static str,
    pub(crate) zone_name: &'static str,
    /// Whether `facilities.csv` names the zone (else the bundle zone, the same one, applies).
    pub(crate) writes_zone: bool,
    pub(crate) go_live: Option<i64>,
    /// Exam and reaction times as RFC 3339 with offset instead of naive local times.
    pub(crate) rfc3339: bool,
    pub(crate) zone: ZoneDays,
    /// Days in the period on which the zone changes offset.
    pub(crate) dst_days: Vec<i64>,
    pub(crate) physician: usize,
    pub(crate) rns: Vec<usize>,
    pub(crate) apps: Vec<usize>,
    pub(crate) techs: Vec<usize>,
    pub(crate) panel: [usize; 3],
}

impl Facility {
    pub(crate) fn virtual_live(&self, day: i64) -> bool {
        self.go_live.is_some_and(|g| day >= g)
    }

    /// The panel radiologist covering this facility virtually on `day`.
    pub(crate) fn on_duty(&self, day: i64) -> usize {
        self.panel[day.rem_euclid(3) as usize]
    }

    /// A panel radiologist who has no coverage here on `day`.
    pub(crate) fn off_duty(&self, day: i64) -> usize {
        self.panel[(day + 1).rem_euclid(3) as usize]
    }
}

#[derive(Debug)]
pub(crate) struct Practitioner {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) role: &'static str,
    pub(crate) bls_expires: Option<i64>,
    pub(crate) acls_expires: Option<i64>,
    pub(crate) states: Vec<&'static str>,
}

#[derive(Debug)]
pub(crate) struct World {
    pub(crate) facilities: Vec<Facility>,
    pub(crate) practitioners: Vec<Practitioner>,
    /// Facility choice weights (cumulative).
    pub(crate) facility_weights: Vec<f64>,
    pub(crate) hubs: Vec<usize>,
    /// A radiologist licensed only in states without sites.
    pub(crate) locum: usize,
    /// Remote NPs and PAs licensed in every network state.
    pub(crate) remote_apps: Vec<usize>,
    /// Float-pool RNs whose BLS lapsed before the period.
    pub(crate) lapsed_rns: Vec<usize>,
}

impl World {
    pub(crate) fn hub_on_duty(&self, day: i64) -> usize {
        self.hubs[day.rem_euclid(self.hubs.len() as i64) as usize]
    }

    pub(crate) fn id(&self, practitioner: usize) -> &str {
        &self.practitioners[practitioner].id
    }
}

/// Sites grow slowly with volume: 4 for 500 exams, about 40 for 1,000,000.
pub(crate) fn facility_count(exams: usize) -> usize {
    let n = 0.608 * (exams.max(1) as f64).powf(0.303);
    (n.round() as usize).clamp(2, 60)
}

struct Staff<'a> {
    rng: &'a mut Rng,
    list: Vec<Practitioner>,
    counters: [usize; 6],
    last_day: i64,
}

impl Staff<'_> {
    fn add(&mut self, role: &'static str, states: Vec<&'static str>) -> usize {
        let (slot, prefix) = match role {
            "radiologist" => (0, "RAD"),
            "physician" => (1, "PHY"),
            "np" => (2, "NP"),
            "pa" => (3, "PA"),
            "rn" => (4, "RN"),
            _ => (5, "TEC"),
        };
        self.counters[slot] += 1;
        let id = format!("{prefix}-{:04}", self.counters[slot]);
        let first = FIRST_NAMES[self.rng.index(FIRST_NAMES.len())];
        let last = LAST_NAMES[self.rng.index(LAST_NAMES.len())];
        let name = match role {
            "radiologist" | "physician" => format!("{first} {last} MD"),
            "np" => format!("{first} {last} NP"),
            "pa" => format!("{first} {last} PA-C"),
            "rn" => format!("{first} {last} RN"),
            _ => format!("{first} {last}"),
        };
        let bls_expires = Some(self.last_day + self.rng.range(30, 730));
        let acls = matches!(role, "radiologist" | "physician" | "np" | "pa" | "rn")
            && self.rng.chance(0.5);
        let acls_expires = acls.then(|| self.last_day + self.rng.range(30, 730));
        self.list.push(Practitioner {
            id,
            name,
            role,
            bls_expires,
            acls_expires,
            states,
        });
        self.list.len() - 1
    }
}

/// Builds the network for a period `[first_day, last_day]` (epoch days) and `exams` exams.
pub(crate) fn build(rng: &mut Rng, exams: usize, first_day: i64, last_day: i64) -> World {
    let count = facility_count(exams);
    let period_days = last_day - first_day + 1;
    let operating_days = (period_days * 6 / 7).max(1) as f64;

    // Sites first: staff and licences depend on where they are.
    let mut sites = Vec::with_capacity(count);
    for i in 0..count {
        let place = &PLACES[i % PLACES.len()];
        let town = place.towns[rng.index(place.towns.len())];
        let kind = SITE_KINDS[rng.index(SITE_KINDS.len())];
        let setting = ["idtf", "office", "hospital_outpatient", "idtf", "office"][i % 5];
        let go_live = match i % 4 {
            0 | 3 => Some(first_day - rng.range(30, 400)),
            1 => Some(first_day + rng.range(period_days * 3 / 10, period_days * 7 / 10)),
            _ => None,
        };
        let weight = 0.6 + rng.unit();
        sites.push((place, format!("{town} {kind}"), setting, go_live, weight));
    }
    let total_weight: f64 = sites.iter().map(|s| s.4).sum();
    let facility_weights = cumulative(sites.iter().map(|s| s.4));
    let mut network_states: Vec<&'static str> = sites.iter().map(|s| s.0.state).collect();
    network_states.sort_unstable();
    network_states.dedup();

    let mut staff = Staff {
        rng,
        list: Vec::new(),
        counters: [0; 6],
        last_day,
    };

    // Remote readers: panel radiologists (licensed where their panels are), hubs (everywhere).
    let panel_size = (count * 3 / 4).max(3);
    let panels: Vec<[usize; 3]> = (0..count)
        .map(|f| [f % panel_size, (f + 1) % panel_size, (f + 2) % panel_size])
        .collect();
    let mut panel_rads = Vec::with_capacity(panel_size);
    for r in 0..panel_size {
        let mut states: Vec<&'static str> = panels
            .iter()
            .zip(&sites)
            .filter(|(p, _)| p.contains(&r))
            .map(|(_, s)| s.0.state)
            .collect();
        if staff.rng.chance(0.3) {
            states.push(PLACES[staff.rng.index(PLACES.len())].state);
        }
        states.sort_unstable();
        states.dedup();
        panel_rads.push(staff.add("radiologist", states));
    }
    let hub_count = (count / 8 + 1).max(2);
    let hubs: Vec<usize> = (0..hub_count)
        .map(|_| staff.add("radiologist", network_states.clone()))
        .collect();
    let locum = staff.add("radiologist", ELSEWHERE.to_vec());
    let remote_apps = vec![
        staff.add("np", network_states.clone()),
        staff.add("pa", network_states.clone()),
    ];
    let lapsed_rns: Vec<usize> = (0..2)
        .map(|i| {
            let id = staff.add("rn", network_states.clone());
            staff.list[id].bls_expires = Some(first_day - 20 - 90 * i);
            id
        })
        .collect();

    let mut facilities = Vec::with_capacity(count);
    for (i, (place, name, setting, go_live, weight)) in sites.into_iter().enumerate() {
        let daily = exams as f64 * weight / total_weight / operating_days;
        let here = vec![place.state];
        let physician_role = if staff.rng.chance(0.6) {
            "physician"
        } else {
            "radiologist"
        };
        let physician = staff.add(physician_role, here.clone());
        let rns = (0..(2 + (daily / 40.0) as usize).min(6))
            .map(|_| staff.add("rn", here.clone()))
            .collect();
        let apps = if i % 3 == 1 {
            let role = if staff.rng.chance(0.5) { "np" } else { "pa" };
            vec![staff.add(role, here.clone())]
        } else {
            Vec::new()
        };
        let techs = (0..((daily / 10.0).ceil() as usize).clamp(2, 40))
            .map(|_| staff.add("technologist", here.clone()))
            .collect();
        let tz: Tz = place.zone.parse().unwrap_or(chrono_tz::America::Chicago);
        let zone = ZoneDays::new(tz, first_day - 40, last_day + 40);
        let dst_days = zone.transitions(first_day, last_day);
        facilities.push(Facility {
            id: format!("FAC-{:02}", i + 1),
            name,
            setting,
            state: place.state,
            zone_name: place.zone,
            writes_zone: !(place.zone == "America/Chicago" && i % 2 == 0),
            go_live,
            rfc3339: i % 3 == 2,
            zone,
            dst_days,
            physician,
            rns,
            apps,
            techs,
            panel: panels[i].map(|r| panel_rads[r]),
        });
    }
    World {
        facilities,
        practitioners: staff.list,
        facility_weights,
        hubs,
        locum,
        remote_apps,
        lapsed_rns,
    }
}
