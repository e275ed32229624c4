"""Advocacy dossiers: a pledge, its figures, actions and signers as one PDF for officials,
funders or media, built in parts so that a pledge of any size fits in memory."""
