"""What to call a logged file's format (3D objects, molecules, videos), from its name: the client
keeps the extension of the file it was given."""

FORMAT_NAMES = {
    # wandb.Object3D
    "pts.json": "point cloud (W&B JSON)",
    "obj": "Wavefront OBJ",
    "gltf": "glTF",
    "glb": "glTF binary (GLB)",
    "babylon": "Babylon.js scene",
    "stl": "STL",
    # wandb.Molecule
    "pdb": "Protein Data Bank (PDB)",
    "pqr": "PQR",
    "mmcif": "mmCIF",
    "mcif": "mmCIF",
    "cif": "CIF",
    "sdf": "Structure-data file (SDF)",
    "sd": "Structure-data file (SDF)",
    "gro": "GROMACS (GRO)",
    "mol2": "Tripos MOL2",
    "mmtf": "MMTF",
}

# Videos a browser plays itself; a gif is shown as an image.
PLAYABLE_VIDEOS = {"mp4", "webm", "ogg", "ogv"}


def file_extension(name: str) -> str:
    """The extension, lower case, keeping the two-part `.pts.json` whole."""
    base = name.rsplit("/", 1)[-1].lower()
    if base.endswith(".pts.json"):
        return "pts.json"
    return base.rsplit(".", 1)[-1] if "." in base else ""


def format_name(name: str) -> str:
    """A reader's name for the file's format: "Wavefront OBJ"; the extension for unknown ones."""
    extension = file_extension(name)
    return FORMAT_NAMES.get(extension, extension.upper() or "unknown format")


# A logged plotly figure is drawn in the browser from its JSON file: beyond this size it is a
# download rather than something that stalls the page.
FIGURE_MAX_BYTES = 10 * 1024 * 1024


def figure_drawable(file) -> bool:
    """Whether a logged figure's uploaded file is small enough to draw in the page."""
    return file is not None and file.size is not None and file.size <= FIGURE_MAX_BYTES
