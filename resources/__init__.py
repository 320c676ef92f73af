"""Files the app loads at run time (icons, sample images); installed as gptimg_desktop.resources."""
