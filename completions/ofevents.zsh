#compdef ofevents

_ofevents_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _OFEVENTS_COMPLETE=complete_zsh ofevents)
}

compdef _ofevents_completion ofevents
